// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "render.hpp"

namespace salon::email {
namespace {

Digest two_rooms() {
  Digest d;
  d.jid = "bob@example.com";
  d.address = "bob@example.com";
  d.name = "Bob";
  DigestRoom a{1, "kitchen-42", "Kitchen <refresh>", {}, 7, 0};
  for (int i = 0; i < 5; ++i)
    a.messages.push_back({"Alice", 1'765'000'000'000'000 + i, "msg " + std::to_string(i)});
  a.messages[0].body = "<script>alert(1)</script> & more";
  DigestRoom b{2, "bath-7", "Bath", {{"Carol", 1'765'000'100'000'000, "hi"}}, 1, 0};
  d.rooms = {a, b};
  return d;
}

Rendered render(const Digest& d, const std::filesystem::path& dir = {}) {
  auto t = Templates::load(dir);
  if (auto* e = std::get_if<std::string>(&t)) ADD_FAILURE() << *e;
  auto r = std::get<Templates>(t).render(d, RenderOptions{"https://market.example.com/p/{project}",
                                                          "https://u.example/x?a=1&b=2", 300});
  if (auto* e = std::get_if<std::string>(&r)) ADD_FAILURE() << *e;
  return std::get<Rendered>(r);
}

TEST(Digest, SubjectCountsMessagesAndProjects) {
  auto d = two_rooms();
  EXPECT_EQ(render(d).subject, "8 new messages in 2 projects");
  d.rooms.resize(1);
  d.rooms[0].name = "Living-room refresh";
  EXPECT_EQ(render(d).subject, "7 new messages in Living-room refresh");
  d.rooms[0].total = 1;
  d.rooms[0].messages.resize(1);
  EXPECT_EQ(render(d).subject, "1 new message in Living-room refresh");
}

TEST(Digest, HtmlEscapesWhatUsersWrote) {
  const auto r = render(two_rooms());
  EXPECT_EQ(r.html.find("<script>"), std::string::npos);
  EXPECT_NE(r.html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"), std::string::npos);
  EXPECT_NE(r.html.find("Kitchen &lt;refresh&gt;"), std::string::npos);
  EXPECT_NE(r.html.find("href=\"https://u.example/x?a=1&amp;b=2\""), std::string::npos);
  // The text part is not HTML: it shows the text as written.
  EXPECT_NE(r.text.find("<script>alert(1)</script> & more"), std::string::npos);
}

TEST(Digest, AtMostNPerRoomAndKMore) {
  const auto r = render(two_rooms());
  EXPECT_NE(r.text.find("== Kitchen <refresh> (7 new) =="), std::string::npos);
  EXPECT_NE(r.text.find("... and 2 more."), std::string::npos);
  EXPECT_NE(r.text.find("Open the project: https://market.example.com/p/kitchen-42"),
            std::string::npos);
  EXPECT_LT(r.text.find("Kitchen"), r.text.find("Bath"));  // in the order given (oldest first)
  // No "more" line for a room shown whole (Bath: 1 of 1).
  EXPECT_EQ(r.text.find("more.", r.text.find("== Bath")), std::string::npos);
}

TEST(Digest, ExcerptsCutOnCharactersAndFoldSpace) {
  EXPECT_EQ(excerpt("a  b\n\nc", 100), "a b c");
  EXPECT_EQ(excerpt("abcdef", 3), "abc\xE2\x80\xA6");
  EXPECT_EQ(excerpt("\xC3\xA9\xC3\xA9\xC3\xA9", 2), "\xC3\xA9\xC3\xA9\xE2\x80\xA6");
  EXPECT_EQ(excerpt("  lead", 10), "lead");
}

TEST(Digest, ATemplateSyntaxErrorNamesFileAndLine) {
  const auto dir = std::filesystem::temp_directory_path() / "salon-email-tpl-test";
  std::filesystem::create_directories(dir);
  for (const char* f : {"digest.subject.mustache", "digest.txt.mustache"})
    std::ofstream(dir / f) << "{{total}} ok\n";
  std::ofstream(dir / "digest.html.mustache") << "<p>\nline 2\n{{#projects}}\nnever closed\n";
  auto t = Templates::load(dir);
  ASSERT_TRUE(std::holds_alternative<std::string>(t));
  const auto& e = std::get<std::string>(t);
  EXPECT_NE(e.find((dir / "digest.html.mustache").string() + ":3: "), std::string::npos) << e;
  EXPECT_NE(e.find("projects"), std::string::npos) << e;
  std::filesystem::remove_all(dir);
}

TEST(Digest, TheShippedTemplatesAreTheFilesInDeploy) {
  const auto shipped = render(two_rooms());
  const auto files = render(two_rooms(), SALON_EMAIL_TEMPLATES);
  EXPECT_EQ(shipped.subject, files.subject);
  EXPECT_EQ(shipped.text, files.text);
  EXPECT_EQ(shipped.html, files.html);
}

}  // namespace
}  // namespace salon::email
