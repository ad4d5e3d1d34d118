// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/xml_parse.hpp"

#include <cstdint>
#include <string>

namespace salon {

namespace {

class Parser {
public:
  explicit Parser(std::string_view s) : s_(s) {}

  std::optional<Element> document() {
    skip_misc();
    auto e = element(0);
    if (!e) return std::nullopt;
    skip_misc();
    if (pos_ != s_.size()) return std::nullopt;
    return e;
  }

private:
  static constexpr int kMaxDepth = static_cast<int>(kMaxParseDepth);

  bool eof() const { return pos_ >= s_.size(); }
  char peek() const { return eof() ? '\0' : s_[pos_]; }
  bool starts(std::string_view p) const { return s_.substr(pos_, p.size()) == p; }
  static bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  static bool name_char(char c) {
    return !space(c) && c != '=' && c != '>' && c != '/' && c != '<' && c != '\'' && c != '"' &&
           c != '\0';
  }
  void skip_space() {
    while (!eof() && space(peek()))
      ++pos_;
  }
  // Whitespace, comments and processing instructions outside the root element.
  void skip_misc() {
    for (;;) {
      skip_space();
      if (starts("<?")) {
        auto end = s_.find("?>", pos_);
        pos_ = end == std::string_view::npos ? s_.size() : end + 2;
      } else if (starts("<!--")) {
        auto end = s_.find("-->", pos_);
        pos_ = end == std::string_view::npos ? s_.size() : end + 3;
      } else {
        return;
      }
    }
  }

  std::string name() {
    const auto start = pos_;
    while (!eof() && name_char(peek()))
      ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // Decodes text up to `stop`; false on a bad entity.
  bool decode_until(char stop, std::string& out) {
    while (!eof() && peek() != stop) {
      if (stop == '<' && peek() == '>') return false;
      if (peek() != '&') {
        out += s_[pos_++];
        continue;
      }
      const auto semi = s_.find(';', pos_);
      if (semi == std::string_view::npos || semi - pos_ > 12) return false;
      const std::string_view ent = s_.substr(pos_ + 1, semi - pos_ - 1);
      if (ent == "amp")
        out += '&';
      else if (ent == "lt")
        out += '<';
      else if (ent == "gt")
        out += '>';
      else if (ent == "quot")
        out += '"';
      else if (ent == "apos")
        out += '\'';
      else if (ent.size() > 1 && ent[0] == '#') {
        std::uint32_t cp = 0;
        const bool hex = ent[1] == 'x';
        for (char c : ent.substr(hex ? 2 : 1)) {
          int d;
          if (c >= '0' && c <= '9')
            d = c - '0';
          else if (hex && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
          else if (hex && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
          else
            return false;
          cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
          if (cp > 0x10FFFF) return false;
        }
        append_utf8(out, cp);
      } else {
        return false;
      }
      pos_ = semi + 1;
    }
    return true;
  }

  std::optional<Element> element(int depth) {
    if (depth > kMaxDepth || peek() != '<') return std::nullopt;
    ++pos_;
    Element e(name());
    if (e.name().empty()) return std::nullopt;
    for (;;) {
      skip_space();
      if (starts("/>")) {
        pos_ += 2;
        return e;
      }
      if (peek() == '>') {
        ++pos_;
        break;
      }
      std::string key = name();
      if (key.empty()) return std::nullopt;
      skip_space();
      if (peek() != '=') return std::nullopt;
      ++pos_;
      skip_space();
      const char quote = peek();
      if (quote != '\'' && quote != '"') return std::nullopt;
      ++pos_;
      std::string value;
      if (!decode_until(quote, value) || eof()) return std::nullopt;
      ++pos_;
      e.set_attr(key, std::move(value));
    }
    std::string text;
    for (;;) {
      std::string chunk;
      if (!decode_until('<', chunk) || eof()) return std::nullopt;
      text += chunk;
      if (starts("<!--")) {
        auto end = s_.find("-->", pos_);
        if (end == std::string_view::npos) return std::nullopt;
        pos_ = end + 3;
      } else if (starts("</")) {
        pos_ += 2;
        if (name() != e.name()) return std::nullopt;
        skip_space();
        if (peek() != '>') return std::nullopt;
        ++pos_;
        break;
      } else {
        auto child = element(depth + 1);
        if (!child) return std::nullopt;
        e.add_child(std::move(*child));
      }
    }
    // Whitespace between child elements is formatting, not content.
    if (!e.children().empty() && text.find_first_not_of(" \t\r\n") == std::string::npos)
      text.clear();
    e.set_text(std::move(text));
    return e;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<Element> parse_xml(std::string_view text) {
  return Parser(text).document();
}

}  // namespace salon
