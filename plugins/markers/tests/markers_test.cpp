// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "core/uuid.hpp"
#include "markers.hpp"

namespace salon::markers {
namespace {

using Clock = std::chrono::system_clock;

Element groupchat() {
  Element m("message");
  m.set_attr("type", "groupchat");
  return m;
}

TEST(ReadPosition, AMessageWithABodyIsReadUpToItself) {
  Element m = groupchat();
  m.add_child("body").set_text("hello");
  const auto now = Clock::now();
  const auto pos = read_position_of(m, "sid-1", now);
  ASSERT_TRUE(pos);
  EXPECT_EQ(pos->stanza_id, "sid-1");
  EXPECT_EQ(pos->at, now);
  EXPECT_EQ(pos->source, ReadPosition::Source::message);
}

TEST(ReadPosition, ADisplayedMarkerPlacesTheMarkedStanzaId) {
  const auto then = Clock::time_point(std::chrono::microseconds(1'765'000'000'123'456));
  const std::string id = uuid7(then);
  Element m = groupchat();
  m.add_child("displayed", kChatMarkers).set_attr("id", id);
  const auto pos = read_position_of(m, "marker-own-id", then + std::chrono::seconds(5));
  ASSERT_TRUE(pos);
  EXPECT_EQ(pos->stanza_id, id);
  EXPECT_EQ(pos->at, then);  // to the microsecond: the archive's ts of that message
  EXPECT_EQ(pos->source, ReadPosition::Source::marker);
}

TEST(ReadPosition, AcknowledgedCountsReceivedDoesNot) {
  const auto then = Clock::now() - std::chrono::seconds(1);
  Element ack = groupchat();
  ack.add_child("acknowledged", kChatMarkers).set_attr("id", uuid7(then));
  EXPECT_TRUE(read_position_of(ack, "x", Clock::now()));
  Element received = groupchat();
  received.add_child("received", kChatMarkers).set_attr("id", uuid7(then));
  EXPECT_FALSE(read_position_of(received, "x", Clock::now()));
}

TEST(ReadPosition, AMarkerForAnIdTheRoomDidNotMintIsNothing) {
  Element m = groupchat();
  m.add_child("displayed", kChatMarkers).set_attr("id", "client-msg-42");
  EXPECT_FALSE(read_position_of(m, "x", Clock::now()));
  // A version 4 UUID is not a time either.
  Element v4 = groupchat();
  v4.add_child("displayed", kChatMarkers).set_attr("id", uuid4());
  EXPECT_FALSE(read_position_of(v4, "x", Clock::now()));
}

TEST(ReadPosition, AMarkerFromTheFutureIsRefused) {
  const auto now = Clock::now();
  Element m = groupchat();
  m.add_child("displayed", kChatMarkers).set_attr("id", uuid7(now + std::chrono::hours(1)));
  EXPECT_FALSE(read_position_of(m, "x", now));
}

TEST(ReadPosition, ChatStatesAloneMoveNothing) {
  Element m = groupchat();
  m.add_child("composing", "http://jabber.org/protocol/chatstates");
  EXPECT_FALSE(read_position_of(m, "x", Clock::now()));
}

TEST(ReadStateRows, SpoolEncodingRoundTripsAndRefusesGarbage) {
  const Position p{42, "alice@example.com", "0190-abc", 1'765'000'000'000'001};
  const auto back = decode_position(encode_position(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->room_id, 42);
  EXPECT_EQ(back->jid, p.jid);
  EXPECT_EQ(back->stanza_id, p.stanza_id);
  EXPECT_EQ(back->at_us, p.at_us);
  EXPECT_FALSE(decode_position("2:42,"));
  EXPECT_FALSE(decode_position(encode_position(p) + "x"));
  EXPECT_FALSE(decode_position("2:4x,1:a,1:b,1:1,"));  // not a number
}

}  // namespace
}  // namespace salon::markers
