// SPDX-License-Identifier: GPL-3.0-or-later
// Service-level behaviour: addressing checks, disco on the service, ping, unknown namespaces,
// and stanzas to rooms that do not exist.
#include "harness.hpp"

namespace salon::muc::test {
namespace {

TEST(ServiceIq, DiscoInfoHasIdentityAndFeatures) {
  Bench b;
  b.send(
      "<iq type='get' id='d1' from='alice@example.com/web' to='rooms.example.com'>"
      "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='d1' from='rooms.example.com' to='alice@example.com/web'>"
                "<query xmlns='http://jabber.org/protocol/disco#info'>"
                "<identity category='conference' type='text' name='Project rooms'/>"
                "<feature var='http://jabber.org/protocol/disco#info'/>"
                "<feature var='http://jabber.org/protocol/disco#items'/>"
                "<feature var='http://jabber.org/protocol/muc'/>"
                "<feature var='urn:xmpp:ping'/>"
                "</query></iq>");
}

TEST(ServiceIq, PluginServiceFeaturesAreAdvertised) {
  Bench b;
  b.service->host().add_service_feature("urn:example:extra");
  b.send(
      "<iq type='get' id='d1' from='alice@example.com/web' to='rooms.example.com'>"
      "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  const auto features = out[0].child("query")->children_named("feature");
  ASSERT_FALSE(features.empty());
  EXPECT_EQ(features.back()->attr("var"), "urn:example:extra");
}

TEST(ServiceIq, DiscoInfoWithNodeIsItemNotFound) {
  Bench b;
  b.send(
      "<iq type='get' id='d2' from='alice@example.com/web' to='rooms.example.com'>"
      "<query xmlns='http://jabber.org/protocol/disco#info' node='x'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='error' id='d2' from='rooms.example.com' to='alice@example.com/web'>"
                "<error type='cancel'><item-not-found "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
}

TEST(ServiceIq, DiscoItemsListsOnlyTheRequestersRooms) {
  Bench b;
  b.room("p1", "Kitchen remodel", {{"alice@example.com", Affiliation::member, "Alice"}});
  b.room("p2", "Logo design", {{"bob@example.com", Affiliation::owner, "Bob"}});
  b.room("p3", "Garden", {{"alice@example.com", Affiliation::owner, "Alice"}});
  b.room("p4", "Banned", {{"alice@example.com", Affiliation::outcast, ""}});
  b.send(
      "<iq type='get' id='i1' from='alice@example.com/web' to='rooms.example.com'>"
      "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='i1' from='rooms.example.com' to='alice@example.com/web'>"
                "<query xmlns='http://jabber.org/protocol/disco#items'>"
                "<item jid='p1@rooms.example.com' name='Kitchen remodel'/>"
                "<item jid='p3@rooms.example.com' name='Garden'/>"
                "</query></iq>");
}

TEST(ServiceIq, DiscoItemsStoreFailureIsAnswered) {
  Bench b;
  b.store.fail_next("rooms_of", "connection lost");
  b.send(
      "<iq type='get' id='i1' from='alice@example.com/web' to='rooms.example.com'>"
      "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("type"), "error");
  EXPECT_EQ(error_condition(out[0]), "internal-server-error");
}

TEST(ServiceIq, PingIsAnswered) {
  Bench b;
  b.send(
      "<iq type='get' id='p1' from='alice@example.com/web' to='rooms.example.com'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='p1' from='rooms.example.com' to='alice@example.com/web'/>");
}

TEST(ServiceIq, UnknownNamespaceIsServiceUnavailable) {
  Bench b;
  b.send(
      "<iq type='get' id='v1' from='alice@example.com/web' to='rooms.example.com'>"
      "<query xmlns='jabber:iq:version'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='error' id='v1' from='rooms.example.com' to='alice@example.com/web'>"
                "<error type='cancel'><service-unavailable "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
}

TEST(ServiceIq, PluginServiceIqHandlerIsUsed) {
  Bench b;
  b.service->host().on_service_iq("get", "urn:example:q", [](const Element&, IqResponder r) {
    r.result(Element("answer", "urn:example:q"));
  });
  b.send(
      "<iq type='get' id='x1' from='alice@example.com/web' to='rooms.example.com'>"
      "<q xmlns='urn:example:q'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='x1' from='rooms.example.com' "
                "to='alice@example.com/web'><answer xmlns='urn:example:q'/></iq>");
}

TEST(ServiceIq, ReplyFromIsTheOriginalTo) {
  Bench b;
  // The client addressed the service with different case; the reply uses its exact 'to'.
  b.send(
      "<iq type='get' id='p1' from='alice@example.com/web' to='Rooms.Example.com'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("from"), "Rooms.Example.com");
  EXPECT_EQ(out[0].attr("type"), "result");
}

TEST(ServiceIq, IqWithoutPayloadIsBadRequest) {
  Bench b;
  b.send("<iq type='get' id='e1' from='alice@example.com/web' to='rooms.example.com'/>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "bad-request");
}

TEST(ServiceIq, ResultsAndErrorsToTheServiceAreNotAnswered) {
  Bench b;
  b.send("<iq type='result' id='r1' from='alice@example.com/web' to='rooms.example.com'/>");
  b.send("<iq type='error' id='r2' from='alice@example.com/web' to='rooms.example.com'/>");
  EXPECT_TRUE(b.take().empty());
}

TEST(Addressing, MalformedToIsJidMalformed) {
  Bench b;
  b.send(
      "<iq type='get' id='m1' from='alice@example.com/web' to='p1@rooms.example.com/'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "jid-malformed");
  EXPECT_EQ(out[0].attr("from"), "p1@rooms.example.com");  // the room part was usable
  EXPECT_EQ(out[0].attr("to"), "alice@example.com/web");
  b.send(
      "<iq type='get' id='m2' from='alice@example.com/web' to='@rooms.example.com'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "jid-malformed");
  EXPECT_EQ(out[0].attr("from"), "rooms.example.com");
}

TEST(Addressing, UnusableFromIsDropped) {
  Bench b;
  b.send("<iq type='get' id='m1' to='rooms.example.com'><ping xmlns='urn:xmpp:ping'/></iq>");
  b.send(
      "<iq type='get' id='m2' from='@bad' to='rooms.example.com'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  b.send("<message from='' to='p1@rooms.example.com' type='groupchat'><body>x</body></message>");
  EXPECT_TRUE(b.take().empty());
}

TEST(Addressing, StanzasFromOurOwnDomainAreDropped) {
  Bench b;
  b.send(
      "<message from='p1@rooms.example.com/x' to='p1@rooms.example.com' type='groupchat'>"
      "<body>loop</body></message>");
  EXPECT_TRUE(b.take().empty());
}

TEST(Addressing, MessageToTheServiceIsServiceUnavailable) {
  Bench b;
  b.send(
      "<message id='m' from='alice@example.com/web' to='rooms.example.com'>"
      "<body>hi</body></message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<message type='error' id='m' from='rooms.example.com' "
                "to='alice@example.com/web'><body>hi</body><error type='cancel'>"
                "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                "</message>");
}

TEST(UnknownRoom, JoinIsItemNotFound) {
  Bench b;
  b.send(
      "<presence id='j' from='alice@example.com/web' to='nope@rooms.example.com/Alice'>"
      "<x xmlns='http://jabber.org/protocol/muc'/></presence>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<presence type='error' id='j' from='nope@rooms.example.com/Alice' "
                "to='alice@example.com/web'><x xmlns='http://jabber.org/protocol/muc'/>"
                "<error type='cancel'><item-not-found "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no such room</text></error>"
                "</presence>");
  EXPECT_EQ(b.service->loaded_rooms(), 0u);
}

TEST(UnknownRoom, UnavailableAndErrorPresenceAreIgnored) {
  Bench b;
  b.send(
      "<presence type='unavailable' from='alice@example.com/web' "
      "to='nope@rooms.example.com/Alice'/>");
  b.send(
      "<presence type='error' from='alice@example.com/web' "
      "to='nope@rooms.example.com/Alice'/>");
  EXPECT_TRUE(b.take().empty());
  EXPECT_EQ(b.store.load_room_calls(), 0u);
}

TEST(UnknownRoom, MessageIsItemNotFoundButErrorsAreNotBounced) {
  Bench b;
  b.send(
      "<message type='groupchat' id='g' from='alice@example.com/web' "
      "to='nope@rooms.example.com'><body>hi</body></message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("type"), "error");
  EXPECT_EQ(error_condition(out[0]), "item-not-found");
  EXPECT_EQ(out[0].attr("from"), "nope@rooms.example.com");

  b.send(
      "<message type='error' id='g' from='alice@example.com/web' "
      "to='nope@rooms.example.com'><error type='cancel'><item-not-found "
      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
  EXPECT_TRUE(b.take().empty());
}

TEST(UnknownRoom, IqIsItemNotFound) {
  Bench b;
  b.send(
      "<iq type='get' id='q' from='alice@example.com/web' to='nope@rooms.example.com'>"
      "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='error' id='q' from='nope@rooms.example.com' "
                "to='alice@example.com/web'><error type='cancel'><item-not-found "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no such room</text></error></iq>");
}

TEST(UnknownRoom, StoreFailureIsInternalServerError) {
  Bench b;
  b.room("p1", "P", {});
  b.store.fail_next("load_room", "db down");
  b.send(
      "<iq type='get' id='q' from='alice@example.com/web' to='p1@rooms.example.com'>"
      "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "internal-server-error");
  EXPECT_EQ(b.service->loaded_rooms(), 0u);
}

TEST(UnknownRoom, StanzasQueuedDuringLoadKeepTheirOrder) {
  Bench b;
  b.room("p1", "P", {});
  for (int i = 0; i < 3; ++i) {
    b.service->handle(xml("<iq type='get' id='q" + std::to_string(i) +
                          "' from='alice@example.com/web' to='p1@rooms.example.com'>"
                          "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>"));
  }
  b.settle();
  auto out = b.take();
  ASSERT_EQ(out.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(out[i].attr("id"), "q" + std::to_string(i));
  EXPECT_EQ(b.store.load_room_calls(), 1u);
}

}  // namespace
}  // namespace salon::muc::test
