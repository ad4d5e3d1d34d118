// SPDX-License-Identifier: GPL-3.0-or-later
// A digest's content, and its subject, text and HTML rendered from Mustache templates
// (kainjow/mustache, Debian's libkainjow-mustache-dev): logic-less, so admins can edit them
// (templates_dir) without being able to run code. In the HTML template {{x}} is HTML-escaped;
// in the subject and text templates nothing is (they are not HTML). The shipped templates are
// deploy/email/*.mustache, compiled in.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace salon::email {

struct DigestMessage {
  std::string nick;
  std::int64_t at_us = 0;
  std::string body;  // the whole body (cut to an excerpt when rendered)
};

struct DigestRoom {
  std::int64_t room_id = 0;
  std::string project;                  // the project id (room JID localpart)
  std::string name;                     // the project name
  std::vector<DigestMessage> messages;  // the oldest first, at most max_messages_per_room
  std::size_t total = 0;                // all news in the room (>= messages.size())
  std::int64_t through_us = 0;          // the newest message the digest covers
};

struct Digest {
  std::string jid;                // the member's bare JID
  std::string address;            // their email address
  std::string name;               // their display name (reserved nick), or the JID
  std::vector<DigestRoom> rooms;  // oldest news first
  [[nodiscard]] std::size_t total() const;
};

struct Rendered {
  std::string subject, text, html;
};

struct RenderOptions {
  std::string project_url;  // "{project}" replaced by the URL-escaped project id; "" = none
  std::string unsubscribe_url;
  std::size_t max_excerpt_chars = 300;
};

class Templates {
public:
  // The three templates from `dir` (empty: the shipped ones). An error names the file and the
  // line of a syntax error.
  static std::variant<Templates, std::string> load(const std::filesystem::path& dir);
  ~Templates();
  Templates(Templates&&) noexcept;
  Templates& operator=(Templates&&) noexcept;

  // Thread-safe: rendering does not change the templates. An error text if a template fails
  // while rendering (e.g. a missing partial).
  [[nodiscard]] std::variant<Rendered, std::string> render(const Digest& d,
                                                           const RenderOptions& o) const;

private:
  struct Impl;
  explicit Templates(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// At most `max_chars` characters of `text` (UTF-8), on a character boundary, whitespace runs
// folded to one space, with "…" when cut.
std::string excerpt(std::string_view text, std::size_t max_chars);

}  // namespace salon::email
