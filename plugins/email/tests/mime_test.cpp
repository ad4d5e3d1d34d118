// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "mime.hpp"

namespace salon::email {
namespace {

TEST(Mime, HeaderTextDropsLineBreaksAndControls) {
  EXPECT_EQ(header_text("Evil\r\nBcc: victim@example.com"), "Evil Bcc: victim@example.com");
  EXPECT_EQ(header_text("a\tb\x01"
                        "c  d \n"),
            "a b c d");
  EXPECT_EQ(header_text("caf\xC3\xA9"), "caf\xC3\xA9");  // UTF-8 kept
  EXPECT_EQ(header_text("bad\xFF"
                        "byte"),
            "bad\xEF\xBF\xBD"
            "byte");                                               // invalid -> U+FFFD
  EXPECT_EQ(header_text("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
}

TEST(Mime, EncodedWordsOnlyWhenNeeded) {
  EXPECT_EQ(encode_words("3 new messages in Living-room refresh"),
            "3 new messages in Living-room refresh");
  EXPECT_EQ(encode_words("Caf\xC3\xA9"), "=?UTF-8?B?Q2Fmw6k=?=");
  // A CR/LF in user text never reaches the header, encoded or not.
  EXPECT_EQ(encode_words("a\r\nb"), "a b");
}

TEST(Mime, LongEncodedSubjectsSplitOnCharacterBoundaries) {
  std::string s;
  for (int i = 0; i < 40; ++i)
    s += "\xC3\xA9";  // é, 2 bytes each: 80 bytes
  const std::string out = encode_words(s);
  std::size_t words = 0, pos = 0;
  while ((pos = out.find("=?UTF-8?B?", pos)) != std::string::npos) {
    const auto end = out.find("?=", pos + 10);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end + 2 - pos, 75u);  // RFC 2047 §2
    ++words;
    pos = end;
  }
  EXPECT_EQ(words, 2u);
  EXPECT_NE(out.find("\r\n "), std::string::npos);  // folded between words
}

TEST(Mime, MailboxQuotesOrEncodesTheName) {
  EXPECT_EQ(mailbox("salon", "n@example.com"), "\"salon\" <n@example.com>");
  EXPECT_EQ(mailbox("A \"B\" C", "n@example.com"), "\"A \\\"B\\\" C\" <n@example.com>");
  EXPECT_EQ(mailbox("", "n@example.com"), "<n@example.com>");
  EXPECT_EQ(mailbox("J\xC3\xBCrgen", "j@example.com"), "=?UTF-8?B?SsO8cmdlbg==?= <j@example.com>");
}

TEST(Mime, DateIsRfc5322InUtc) {
  const std::chrono::system_clock::time_point t{std::chrono::seconds(1'796'603'700)};
  EXPECT_EQ(rfc5322_date(t), "Mon, 07 Dec 2026 00:35:00 +0000");
}

TEST(Mime, Base64LinesStayWithinTheLimit) {
  const std::string data(1000, 'x');
  const std::string b = base64_lines(data);
  std::size_t start = 0;
  while (start < b.size()) {
    const auto end = b.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
  EXPECT_EQ(base64_lines("Man"), "TWFu\r\n");
  EXPECT_EQ(base64_lines("Ma"), "TWE=\r\n");
  EXPECT_EQ(base64_lines("M"), "TQ==\r\n");
}

TEST(Mime, MessageHasTheHeadersAndBothParts) {
  Message m;
  m.from_name = "salon";
  m.from_address = "salon@example.com";
  m.to_name = "Bob\r\nBcc: x@evil.example";
  m.to_address = "bob@example.com";
  m.subject = "2 new messages in Kitchen";
  m.message_id = "digest.1.abc@rooms.example.com";
  m.date = std::chrono::system_clock::time_point{std::chrono::seconds(1'796'603'700)};
  m.extra_headers = {{"List-Unsubscribe", "<https://chat.example.com/email/unsubscribe?x=1>"},
                     {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
  m.text = "hello\n.\nworld";
  m.html = "<p>hello</p>";
  const std::string raw = render_message(m, "=_b");
  const auto head_end = raw.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string head = raw.substr(0, head_end + 2);
  EXPECT_NE(head.find("To: \"Bob Bcc: x@evil.example\" <bob@example.com>\r\n"), std::string::npos);
  EXPECT_EQ(head.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(head.find("Message-ID: <digest.1.abc@rooms.example.com>\r\n"), std::string::npos);
  EXPECT_NE(head.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Type: multipart/alternative; boundary=\"=_b\"\r\n"),
            std::string::npos);
  EXPECT_NE(raw.find("--=_b\r\nContent-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(raw.find("--=_b\r\nContent-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_TRUE(raw.ends_with("--=_b--\r\n"));
  // A lone "." line in a body never reaches the wire as such: bodies are base64.
  EXPECT_EQ(raw.find("\r\n.\r\n"), std::string::npos);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n') {
      ASSERT_EQ(raw[i - 1], '\r') << "bare LF at " << i;
    }
  }
}

}  // namespace
}  // namespace salon::email
