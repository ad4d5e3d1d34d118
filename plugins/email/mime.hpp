// SPDX-License-Identifier: GPL-3.0-or-later
// An RFC 5322 / MIME message, built by hand because it is small and every byte of it is
// user-controlled somewhere: names and subjects are stripped of CR/LF and control characters
// and RFC 2047-encoded when not plain ASCII; both bodies are base64 (no line of a user's text
// can end the headers, a part, or exceed SMTP's 998-octet line limit). Pure; tested with
// Python's email package in the protocol tests.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salon::email {

// Text safe for one header line: CR, LF, tabs and other control characters become spaces,
// runs of spaces shrink to one, invalid UTF-8 becomes U+FFFD.
std::string header_text(std::string_view s);
// An unstructured header value (Subject): as is when printable ASCII, otherwise RFC 2047
// encoded-words (UTF-8, base64), split on character boundaries so each stays within 75 chars.
std::string encode_words(std::string_view utf8);
// "Display Name" <addr> with the name quoted or encoded as needed; the address as is (the
// caller has checked it: settings.hpp valid_address).
std::string mailbox(std::string_view display_name, std::string_view address);
// RFC 5322 date-time in UTC: "Mon, 07 Dec 2026 00:35:00 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point t);
// Base64 in lines of 76 characters, each ending CRLF.
std::string base64_lines(std::string_view data);

struct Message {
  std::string from_name, from_address, to_name, to_address;
  std::string subject;     // UTF-8, any content (cleaned here)
  std::string message_id;  // without angle brackets: "digest.1f2e@rooms.example.com"
  std::chrono::system_clock::time_point date;
  std::vector<std::pair<std::string, std::string>> extra_headers;  // name, ASCII value
  std::string text;                                                // text/plain; charset=utf-8
  std::string html;                                                // text/html; charset=utf-8
};

// The whole message, CRLF line endings, multipart/alternative (text first, HTML last: the
// richest last, RFC 2046 §5.1.4). `boundary` must not occur in the base64 parts (any string
// with a character outside base64's alphabet, such as '=', never does).
std::string render_message(const Message& m, std::string_view boundary);

}  // namespace salon::email
