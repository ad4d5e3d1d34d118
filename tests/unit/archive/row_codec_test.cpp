// SPDX-License-Identifier: GPL-3.0-or-later
// The archive row as the journal's spool keeps it (plugins/archive/table.cpp).
#include <gtest/gtest.h>

#include "row_codec.hpp"

namespace salon::archive {
namespace {

Row row(std::string sid, std::string body) {
  Row r;
  r.room_id = 7;
  r.stanza_id = std::move(sid);
  r.ts_us = 1795867200123456;
  r.kind = Kind::correction;
  r.nick = "\xc3\x84, nick:with,separators\n";
  r.sender_jid = "a@example.com";
  r.occupant_id = "occ";
  r.msg_id = "m1";
  r.has_body = true;
  r.body = std::move(body);
  r.stanza = "<message from='r@s/n'><body>x\ny</body></message>";
  r.replaces = "m0";
  return r;
}

void expect_same(const Row& a, const Row& b) {
  EXPECT_EQ(a.room_id, b.room_id);
  EXPECT_EQ(a.stanza_id, b.stanza_id);
  EXPECT_EQ(a.ts_us, b.ts_us);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.nick, b.nick);
  EXPECT_EQ(a.sender_jid, b.sender_jid);
  EXPECT_EQ(a.occupant_id, b.occupant_id);
  EXPECT_EQ(a.msg_id, b.msg_id);
  EXPECT_EQ(a.has_body, b.has_body);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.stanza, b.stanza);
  EXPECT_EQ(a.replaces, b.replaces);
}

TEST(ArchiveRowCodec, RoundTripsEveryField) {
  for (const Kind k : {Kind::message, Kind::subject, Kind::correction, Kind::retraction}) {
    Row r = row("s1", "two\n3:,");
    r.kind = k;
    r.has_body = k != Kind::retraction;
    const auto back = decode_row(encode_row(r));
    ASSERT_TRUE(back);
    expect_same(*back, r);
  }
}

TEST(ArchiveRowCodec, DamageIsNotARow) {
  const std::string good = encode_row(row("s1", "one"));
  EXPECT_FALSE(decode_row(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(decode_row(good + "1:x,"));  // a field too many
  EXPECT_FALSE(decode_row(""));
  std::string bad_room = good;
  bad_room.replace(0, 3, "1:x");  // room id "x"
  EXPECT_FALSE(decode_row(bad_room));
}

}  // namespace
}  // namespace salon::archive
