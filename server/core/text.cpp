// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/text.hpp"

#include <locale.h>
#include <algorithm>
#include <cwctype>

namespace salon {

namespace {
// Decodes one UTF-8 sequence at s[i] (the callers' text was validated by the XMPP server or
// the JSON parser), advancing i.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b = static_cast<unsigned char>(s[i++]);
  const int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0;
  char32_t cp = extra == 0 ? b : b & (0x3F >> extra);
  for (int k = 0; k < extra && i < s.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  return cp;
}
}  // namespace

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

void append_json_escaped(std::string& out, std::string_view s, bool escape_lt) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || (escape_lt && c == '<')) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
}

std::u32string nick_key(std::string_view nick) {
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
  std::u32string key;
  for (std::size_t i = 0; i < nick.size();) {
    const char32_t cp = next_code_point(nick, i);
    if (utf8 != locale_t{})
      key += static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp), utf8));
    else
      key += (cp >= U'A' && cp <= U'Z') ? cp + 32 : cp;
  }
  return key;
}

}  // namespace salon
