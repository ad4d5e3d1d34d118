// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/text.hpp"

#include <gtest/gtest.h>

namespace salon {
namespace {

TEST(Utf8, CountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("\xc3\xa9t\xc3\xa9"), 3u);
  EXPECT_EQ(utf8_length("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x91\x8D"), 3u);
}

TEST(NickKey, IgnoresCaseAcrossScripts) {
  EXPECT_EQ(nick_key("Bob"), nick_key("bOB"));
  EXPECT_EQ(nick_key("\xC3\x89lodie"), nick_key("\xC3\xA9lodie"));                        // É / é
  EXPECT_EQ(nick_key("\xD0\x90\xD0\xBD\xD1\x8F"), nick_key("\xD0\xB0\xD0\xBD\xD1\x8F"));  // Аня
  EXPECT_NE(nick_key("Bob"), nick_key("Bobby"));
  EXPECT_NE(nick_key("e"), nick_key("\xC3\xA9"));  // no accent folding, as lower() does not
}

TEST(Json, EscapesQuotesBackslashAndControlsAndOptionallyLt) {
  std::string out;
  append_json_escaped(out, "a\"b\\c\n\r\t\x01<\xC3\xA9");
  EXPECT_EQ(out, "a\\\"b\\\\c\\n\\r\\t\\u0001<\xC3\xA9");
  out.clear();
  append_json_escaped(out, "<b>\x1f", true);
  EXPECT_EQ(out, "\\u003cb>\\u001f");
}

}  // namespace
}  // namespace salon
