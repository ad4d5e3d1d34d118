// SPDX-License-Identifier: GPL-3.0-or-later
// The Beast-free parts of the HTTP layer: request helpers, problem+json, bearer auth.
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <stdexcept>

#include "http/http.hpp"

namespace salon::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not valid (overlong forms,
// surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t n = c < 0x80           ? 1
                  : (c >> 5) == 0x6  ? 2
                  : (c >> 4) == 0xE  ? 3
                  : (c >> 3) == 0x1E ? 4
                                     : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xC2) return 0;
  if (n == 3 && ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) >= 0xA0))) return 0;
  if (n == 4 && ((c == 0xF0 && b(1) < 0x90) || c > 0xF4 || (c == 0xF4 && b(1) >= 0x90))) return 0;
  return n;
}

// A JSON string literal. Invalid UTF-8 becomes U+FFFD so that echoing client input in a
// problem detail can never produce invalid JSON.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (c == '"')
      out += "\\\"";
    else if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20)
      out += std::string("\\u00") + hex[c >> 4] + hex[c & 0xF];
    else
      out.append(s.substr(i, n));
    i += n;
  }
  out += '"';
}

std::optional<std::string> find_query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto key = url_decode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return std::string();
    if (auto value = url_decode(pair.substr(eq + 1), true)) return value;
  }
  return std::nullopt;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::array<unsigned char, 32> sha256(std::string_view s) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != 32)
    throw std::runtime_error("EVP_Digest(SHA-256) failed");
  return out;
}

}  // namespace

std::optional<std::string> url_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += plus_is_space && c == '+' ? ' ' : c;
    }
  }
  return out;
}

std::string Request::query_param(std::string_view name) const {
  return find_query_param(query, name).value_or(std::string());
}

bool Request::has_query_param(std::string_view name) const {
  return find_query_param(query, name).has_value();
}

std::string Request::header(std::string_view lower_name) const {
  const auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? std::string() : it->second;
}

Response problem(int status, std::string_view title, std::string_view detail,
                 std::string_view field) {
  Response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = "{\"type\":\"about:blank\",\"title\":";
  append_json_string(r.body, title);
  r.body += ",\"status\":" + std::to_string(status);
  r.body += ",\"detail\":";
  append_json_string(r.body, detail);
  if (!field.empty()) {
    r.body += ",\"field\":";
    append_json_string(r.body, field);
  }
  r.body += '}';
  return r;
}

Response json(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

Response streamed(int status, std::string content_type, StreamBody producer) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.stream = std::move(producer);
  return r;
}

bool bearer_ok(const Request& req, std::string_view token) {
  if (token.empty()) return false;
  const auto it = req.headers.find("authorization");
  if (it == req.headers.end()) return false;
  std::string_view value = it->second;
  // RFC 9110 §11.1: the scheme is case-insensitive; RFC 6750 token68 follows one space.
  if (value.size() < 7 || !iequals(value.substr(0, 7), "Bearer ")) return false;
  value.remove_prefix(7);
  // Hashing first makes the comparison independent of both content and length.
  const auto got = sha256(value);
  const auto want = sha256(token);
  return CRYPTO_memcmp(got.data(), want.data(), got.size()) == 0;
}

std::optional<Response> check_bearer(const Request& req, std::string_view token) {
  if (token.empty())
    return problem(503, "Service Unavailable", "API disabled: no http.api_token configured");
  if (!bearer_ok(req, token)) return unauthorized();
  return std::nullopt;
}

Guard bearer_guard(std::function<std::string()> token) {
  return [token = std::move(token)](const Request& req) { return check_bearer(req, token()); };
}

Response unauthorized() {
  Response r = problem(401, "Unauthorized",
                       "this endpoint needs an \"Authorization: Bearer <token>\" header with the "
                       "API token");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"salon\"");
  return r;
}

}  // namespace salon::http
