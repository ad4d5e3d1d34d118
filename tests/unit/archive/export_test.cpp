// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "export.hpp"
#include "retention.hpp"

namespace salon::archive {
namespace {

TranscriptRow row() {
  TranscriptRow r;
  r.stanza_id = "s1";
  r.ts_us = 1795867200123456;
  r.kind = "message";
  r.nick = "Bob <b>";
  r.sender_jid = "bob@example.com";
  r.has_body = true;
  r.body = "<script>alert('x')</script> & \"q\"\n\x01";
  return r;
}

TEST(Transcript, JsonEscapesQuotesControlsAndAngleBrackets) {
  EXPECT_EQ(json_escape("a\"b\\c\n\t\x01<"), "a\\\"b\\\\c\\n\\t\\u0001\\u003c");
  EXPECT_EQ(transcript_json_row(row(), true),
            "\n{\"id\":\"s1\",\"time\":\"2026-11-28T12:00:00.123456Z\",\"kind\":\"message\","
            "\"nick\":\"Bob \\u003cb>\",\"jid\":\"bob@example.com\",\"body\":\"\\u003cscript>"
            "alert('x')\\u003c/script> & \\\"q\\\"\\n\\u0001\",\"retracted\":false}");
  TranscriptRow t = row();
  t.has_body = false;
  t.retracted = true;
  t.replaces = "s0";
  const std::string j = transcript_json_row(t, false);
  EXPECT_EQ(j.substr(0, 2), ",\n");
  EXPECT_NE(j.find("\"body\":null,\"replaces\":\"s0\",\"retracted\":true}"), std::string::npos);
}

TEST(Transcript, HtmlEscapesEverything) {
  const std::string h = transcript_html_row(row());
  EXPECT_EQ(h.find("<script>"), std::string::npos);
  EXPECT_NE(h.find("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;q&quot;"),
            std::string::npos);
  EXPECT_NE(h.find(">Bob &lt;b&gt;</td>"), std::string::npos);
  const std::string head = transcript_html_head("p<1>", "Logo <redesign>");
  EXPECT_EQ(head.find("<redesign>"), std::string::npos);
  EXPECT_NE(head.find("Logo &lt;redesign&gt;"), std::string::npos);
  TranscriptRow t = row();
  t.retracted = true;
  EXPECT_NE(transcript_html_row(t).find("(retracted)"), std::string::npos);
  EXPECT_EQ(transcript_html_row(t).find("script"), std::string::npos);
}

TEST(Retention, DaysBody) {
  EXPECT_EQ(parse_days_body(R"({"days": 30})")->days, 30);
  EXPECT_EQ(parse_days_body(" { \"days\" : null } ")->days, std::nullopt);
  for (const char* bad : {"", "{}", R"({"days": 0})", R"({"days": -1})", R"({"days": "30"})",
                          R"({"days": 36501})", R"({"days": 1.5})", R"({"days": 30, "x": 1})"})
    EXPECT_FALSE(parse_days_body(bad)) << bad;
  EXPECT_FALSE(parse_days_body(R"({"days": 30}x)"));
  EXPECT_FALSE(parse_days_body(R"({"days": 123456})"));
  // 100 KB bodies (the limit is 1 MiB): the std::regex this replaced ran off the stack here.
  EXPECT_EQ(parse_days_body("{\"days\": " + std::string(100000, ' ') + "7}")->days, 7);
  EXPECT_FALSE(parse_days_body(std::string(100000, '{')));
  EXPECT_FALSE(parse_days_body("{\"days\": " + std::string(100000, '9') + "}"));
}

}  // namespace
}  // namespace salon::archive
