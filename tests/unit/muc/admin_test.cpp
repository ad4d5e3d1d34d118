// SPDX-License-Identifier: GPL-3.0-or-later
// muc#admin: lists (XEP-0045 §9.5, §9.8, §10.5, §10.8), affiliation changes (§9.1-9.4,
// §10.3-10.7), roles and kicks (§8.2-8.5, §9.6-9.7), and provisioning changes applied live.
#include "harness.hpp"

namespace salon::muc::test {
namespace {

constexpr const char* A = "alice@example.com/web";
constexpr const char* B = "bob@example.com/pc";
constexpr const char* S = "sam@example.com/desk";
constexpr const char* D = "ada@example.com/lab";
constexpr const char* R = "p1@rooms.example.com";
const std::string ADMIN = "http://jabber.org/protocol/muc#admin";

std::string q(const std::string& items) {
  return "<query xmlns='http://jabber.org/protocol/muc#admin'>" + items + "</query>";
}

TEST(AdminList, MembersReadTheMemberAdminOwnerLists) {
  RoomBench b;
  b.iq(A, R, "get", q("<item affiliation='member'/>"), "l1");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='l1' from='p1@rooms.example.com' "
                "to='alice@example.com/web'>" +
                    q("<item affiliation='member' jid='alice@example.com' nick='Alice'/>"
                      "<item affiliation='member' jid='bob@example.com' nick='Bob'/>"
                      "<item affiliation='member' jid='carol@example.com'/>") +
                    "</iq>");
  b.iq(A, R, "get", q("<item affiliation='owner'/>"), "l2");
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='l2' from='p1@rooms.example.com' "
                "to='alice@example.com/web'>" +
                    q("<item affiliation='owner' jid='sam@example.com' nick='Sam'/>") + "</iq>");
  b.iq(A, R, "get", q("<item affiliation='admin'/>"), "l3");
  EXPECT_EQ(b.take()[0].child("query")->children_named("item").size(), 1u);
}

TEST(AdminList, OutsidersAreForbiddenAndTheBanListIsForAdmins) {
  RoomBench b;
  b.iq("mallory@example.com/x", R, "get", q("<item affiliation='owner'/>"));
  EXPECT_EQ(error_condition(b.take()[0]), "forbidden");
  b.iq(A, R, "get", q("<item affiliation='outcast'/>"));
  EXPECT_EQ(error_condition(b.take()[0]), "forbidden");
  b.iq(D, R, "get", q("<item affiliation='outcast'/>"));
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].child("query")->child("item")->attr("jid"), "eve@example.com");
  b.iq(D, R, "get", q("<item affiliation='bogus'/>"));
  EXPECT_EQ(error_condition(b.take()[0]), "bad-request");
}

TEST(AdminList, RoleListsAreForModerators) {
  RoomBench b;
  b.joined(S, "Sam");
  b.joined(A, "Alice");
  b.iq(A, R, "get", q("<item role='moderator'/>"));
  EXPECT_EQ(error_condition(b.take()[0]), "forbidden");
  b.iq(S, R, "get", q("<item role='participant'/>"), "r1");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='r1' from='p1@rooms.example.com' "
                "to='sam@example.com/desk'>" +
                    q("<item affiliation='member' jid='alice@example.com/web' "
                      "nick='Alice' role='participant'/>") +
                    "</iq>");
}

TEST(Affiliation, AdminGrantsMembershipPersistedWithNick) {
  RoomBench b;
  b.iq(D, R, "set", q("<item affiliation='member' jid='dave@example.com' nick='Dave'/>"), "g");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("type"), "result");
  bool found = false;
  for (const auto& a : b.store.room("p1")->affiliations)
    if (a.jid == "dave@example.com") {
      found = true;
      EXPECT_EQ(a.affiliation, Affiliation::member);
      EXPECT_EQ(a.nick, "Dave");
    }
  EXPECT_TRUE(found);
  b.join("dave@example.com/x", "Dave");
  EXPECT_EQ(b.take().size(), 2u);
}

// Two requests sent back to back, before the store has answered the first one.
void two_at_once(RoomBench& b, const std::string& from, const std::string& first,
                 const std::string& second) {
  for (const auto* item : {&first, &second})
    b.service->handle(xml("<iq type='set' id='" + std::string(item == &first ? "i1" : "i2") +
                          "' from='" + from + "' to='" + R + "'>" + q(*item) + "</iq>"));
  b.settle();
}

const AffiliationRecord* stored(RoomBench& b, const std::string& jid) {
  for (const auto& a : b.store.room("p1")->affiliations)
    if (a.jid == jid) return &a;
  return nullptr;
}

TEST(Affiliation, BackToBackDemotionsStillLeaveAnOwner) {
  RoomBench b;
  b.iq(S, R, "set", q("<item affiliation='owner' jid='ada@example.com'/>"));
  ASSERT_EQ(b.take()[0].attr("type"), "result");
  two_at_once(b, S, "<item affiliation='member' jid='ada@example.com'/>",
              "<item affiliation='member' jid='sam@example.com'/>");
  auto sam = b.take_to(S);
  ASSERT_EQ(sam.size(), 2u);
  EXPECT_EQ(sam[0].attr("id"), "i1");
  EXPECT_EQ(sam[0].attr("type"), "result");
  EXPECT_EQ(sam[1].attr("id"), "i2");
  EXPECT_EQ(error_condition(sam[1]), "conflict");
  ASSERT_NE(stored(b, "sam@example.com"), nullptr);
  EXPECT_EQ(stored(b, "sam@example.com")->affiliation, Affiliation::owner);
}

TEST(Affiliation, BackToBackChangesBuildOnEachOther) {
  RoomBench b;
  two_at_once(b, S, "<item affiliation='member' jid='dave@example.com' nick='Dave'/>",
              "<item affiliation='admin' jid='dave@example.com'/>");
  auto sam = b.take_to(S);
  ASSERT_EQ(sam.size(), 2u);
  EXPECT_EQ(sam[1].attr("type"), "result");
  ASSERT_NE(stored(b, "dave@example.com"), nullptr);
  EXPECT_EQ(stored(b, "dave@example.com")->affiliation, Affiliation::admin);
  EXPECT_EQ(stored(b, "dave@example.com")->nick, "Dave");
  b.iq(A, R, "get", q("<item affiliation='admin'/>"), "l");
  EXPECT_EQ(b.take()[0].child("query")->children_named("item")[1]->attr("nick"), "Dave");
}

TEST(Affiliation, NickReservedByAnotherMemberIsAConflictWhateverItsCase) {
  RoomBench b;
  for (const char* nick : {"Bob", "bOB"}) {
    b.iq(S, R, "set",
         q("<item affiliation='member' jid='dave@example.com' nick='" + std::string(nick) + "'/>"));
    EXPECT_EQ(error_condition(b.take()[0]), "conflict") << nick;
  }
  EXPECT_EQ(stored(b, "dave@example.com"), nullptr);
  // Within one request too.
  b.iq(S, R, "set",
       q("<item affiliation='member' jid='x@example.com' nick='Zed'/>"
         "<item affiliation='member' jid='y@example.com' nick='zed'/>"));
  EXPECT_EQ(error_condition(b.take()[0]), "conflict");
  // Re-reserving one's own nick is fine.
  b.iq(S, R, "set", q("<item affiliation='admin' jid='bob@example.com' nick='BOB'/>"));
  EXPECT_EQ(b.take()[0].attr("type"), "result");
}

TEST(Affiliation, ReservedNickLongerThanAllowedIsRefused) {
  RoomBench b;
  b.iq(
      S, R, "set",
      q("<item affiliation='member' jid='dave@example.com' nick='" + std::string(65, 'N') + "'/>"));
  EXPECT_EQ(error_condition(b.take()[0]), "not-acceptable");
  EXPECT_EQ(stored(b, "dave@example.com"), nullptr);
}

TEST(Affiliation, DeltaWithSeveralItems) {
  RoomBench b;
  b.iq(D, R, "set",
       q("<item affiliation='member' jid='x@example.com'/>"
         "<item affiliation='member' jid='y@example.com'/>"));
  EXPECT_EQ(b.take()[0].attr("type"), "result");
  b.iq(A, R, "get", q("<item affiliation='member'/>"));
  EXPECT_EQ(b.take()[0].child("query")->children_named("item").size(), 5u);
}

TEST(Affiliation, MembersCannotChangeAffiliations) {
  RoomBench b;
  b.iq(A, R, "set", q("<item affiliation='member' jid='x@example.com'/>"));
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "forbidden");
  EXPECT_EQ(b.store.room("p1")->affiliations.size(), 6u);
}

TEST(Affiliation, RevokedMemberIsRemovedWith321AndCannotReenter) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.joined(D, "Ada");
  b.iq(D, R, "set",
       q("<item affiliation='none' jid='alice@example.com'><reason>done</reason>"
         "</item>"),
       "rv");
  const std::string inner = "<actor nick='Ada' jid='ada@example.com'/><reason>done</reason>";
  const auto oid = b.oid("alice@example.com");
  auto alice = b.take_to(A);
  ASSERT_EQ(alice.size(), 1u);
  EXPECT_STANZA(alice[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                        .to = A,
                                        .aff = "none",
                                        .role = "none",
                                        .jid = A,
                                        .codes = {110, 321},
                                        .type = "unavailable",
                                        .item_inner = inner,
                                        .oid = oid}));
  auto bob = b.take_to(B);
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_STANZA(bob[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = B,
                                      .aff = "none",
                                      .role = "none",
                                      .jid = A,
                                      .codes = {321},
                                      .type = "unavailable",
                                      .item_inner = inner,
                                      .oid = oid}));
  auto ada = b.take_to(D);
  ASSERT_EQ(ada.size(), 2u);  // the presence, then the result
  EXPECT_EQ(ada[1].attr("type"), "result");
  b.join(A, "Alice");
  EXPECT_EQ(error_condition(b.take()[0]), "registration-required");
}

TEST(Affiliation, BanRemovesWith301AndDropsTheReservedNick) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(S, "Sam");
  b.iq(S, R, "set", q("<item affiliation='outcast' jid='bob@example.com'/>"));
  auto bob = b.take_to(B);
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_STANZA(bob[0], presence_xml({.from = "p1@rooms.example.com/Bob",
                                      .to = B,
                                      .aff = "outcast",
                                      .role = "none",
                                      .jid = B,
                                      .codes = {110, 301},
                                      .type = "unavailable",
                                      .item_inner = "<actor nick='Sam' jid='sam@example.com'/>",
                                      .oid = b.oid("bob@example.com")}));
  b.take();
  for (const auto& a : b.store.room("p1")->affiliations)
    if (a.jid == "bob@example.com") {
      EXPECT_EQ(a.affiliation, Affiliation::outcast);
      EXPECT_EQ(a.nick, "");
    }
  b.join(A, "Bob");  // the nick is free now
  EXPECT_EQ(b.take_to(A).size(), 3u);
  b.take();
  b.join(B, "Bobby");
  auto refused = b.take();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(error_condition(refused[0]), "forbidden");
}

TEST(Affiliation, RulesForAdminsAndOwners) {
  RoomBench b;
  auto expect = [&](const std::string& from, const std::string& item, const char* cond) {
    b.iq(from, R, "set", q(item));
    auto out = b.take();
    ASSERT_EQ(out.size(), 1u) << item;
    EXPECT_EQ(error_condition(out[0]), cond) << item;
  };
  expect(D, "<item affiliation='outcast' jid='sam@example.com'/>", "not-allowed");
  expect(D, "<item affiliation='outcast' jid='ada@example.com'/>", "conflict");
  expect(S, "<item affiliation='outcast' jid='sam@example.com'/>", "conflict");
  expect(D, "<item affiliation='admin' jid='alice@example.com'/>", "forbidden");
  expect(D, "<item affiliation='owner' jid='alice@example.com'/>", "forbidden");
  expect(D, "<item affiliation='member' jid='sam@example.com'/>", "forbidden");
  expect(S, "<item affiliation='member' jid='sam@example.com'/>", "conflict");  // last owner
  expect(S, "<item affiliation='member' jid='not a jid@@'/>", "jid-malformed");
  expect(S, "<item affiliation='member'/>", "bad-request");
  expect(S, "<item affiliation='member' role='moderator' nick='x'/>", "bad-request");
  EXPECT_EQ(b.store.room("p1")->affiliations.size(), 6u);
}

TEST(Affiliation, OwnerGrantsAdminAndOccupantsAreInformed) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.joined(S, "Sam");
  b.iq(S, R, "set", q("<item affiliation='admin' jid='alice@example.com'/>"));
  auto bob = b.take_to(B);
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_STANZA(bob[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = B,
                                      .aff = "admin",
                                      .role = "moderator",
                                      .jid = A,
                                      .item_inner = "<actor nick='Sam' jid='sam@example.com'/>",
                                      .oid = b.oid("alice@example.com")}));
  b.take();
  // A second owner lets the first step down.
  b.iq(S, R, "set", q("<item affiliation='owner' jid='alice@example.com'/>"));
  b.take();
  b.iq(S, R, "set", q("<item affiliation='member' jid='sam@example.com'/>"));
  auto out = b.take_to(S);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].child("x")->child("item")->attr("role"), "participant");
  EXPECT_EQ(out[1].attr("type"), "result");
}

TEST(Affiliation, StoreFailureChangesNothing) {
  RoomBench b;
  b.joined(A, "Alice");
  b.store.fail_next("set_affiliation", "db down");
  b.iq(S, R, "set", q("<item affiliation='none' jid='alice@example.com'/>"));
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "internal-server-error");
  EXPECT_EQ(b.service->occupants(), 1u);
}

TEST(Roles, ModeratorKicksWith307) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.joined(S, "Sam");
  b.iq(S, R, "set", q("<item nick='Alice' role='none'><reason>spam</reason></item>"), "k");
  const std::string inner = "<actor nick='Sam' jid='sam@example.com'/><reason>spam</reason>";
  auto alice = b.take_to(A);
  ASSERT_EQ(alice.size(), 1u);
  EXPECT_STANZA(alice[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                        .to = A,
                                        .role = "none",
                                        .jid = A,
                                        .codes = {110, 307},
                                        .type = "unavailable",
                                        .item_inner = inner,
                                        .oid = b.oid("alice@example.com")}));
  EXPECT_EQ(b.take_to(B).size(), 1u);
  auto sam = b.take_to(S);
  ASSERT_EQ(sam.size(), 2u);
  EXPECT_EQ(sam[1].attr("type"), "result");
  EXPECT_EQ(b.service->occupants(), 2u);
  // A kick is not a ban.
  b.join(A, "Alice");
  EXPECT_EQ(b.take_to(A).size(), 4u);
}

TEST(Roles, Rules) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.joined(D, "Ada");
  b.joined(S, "Sam");
  auto expect = [&](const std::string& from, const std::string& item, const char* cond) {
    b.iq(from, R, "set", q(item));
    auto out = b.take_to(from);
    ASSERT_FALSE(out.empty()) << item;
    EXPECT_EQ(error_condition(out.back()), cond) << item;
  };
  expect(A, "<item nick='Bob' role='none'/>", "forbidden");  // participant kicks
  expect(A, "<item nick='Bob' role='moderator'/>", "forbidden");
  expect(D, "<item nick='Sam' role='none'/>", "not-allowed");         // admin kicks owner
  expect(D, "<item nick='Sam' role='participant'/>", "not-allowed");  // revoke from owner
  expect(S, "<item nick='Ada' role='visitor'/>", "not-allowed");      // admins keep voice
  expect(S, "<item nick='Nobody' role='none'/>", "item-not-found");
  // An admin makes a member a moderator; that moderator still cannot kick an admin.
  b.iq(D, R, "set", q("<item nick='Alice' role='moderator'/>"));
  auto bob = b.take_to(B);
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob[0].child("x")->child("item")->attr("role"), "moderator");
  b.take();
  expect(A, "<item nick='Ada' role='none'/>", "not-allowed");
  b.iq(A, R, "set", q("<item nick='Bob' role='visitor'/>"));
  auto out = b.take_to(A);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].attr("type"), "result");
}

TEST(Provisioning, ProjectChangedAppliesLive) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  RoomRecord rec = *b.store.room("p1");
  std::erase_if(rec.affiliations,
                [](const AffiliationRecord& a) { return a.jid == "alice@example.com"; });
  for (auto& a : rec.affiliations)
    if (a.jid == "bob@example.com") a.affiliation = Affiliation::owner;
  rec.affiliations.push_back({"dave@example.com", Affiliation::member, "Dave", {}, {}, {}});
  rec.name = "Kitchen v2";
  b.service->project_changed(rec);
  b.settle();
  auto alice = b.take_to(A);
  ASSERT_EQ(alice.size(), 1u);
  EXPECT_EQ(alice[0].attr("type"), "unavailable");
  auto codes = alice[0].child("x")->children_named("status");
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_EQ(codes[1]->attr("code"), "321");
  auto bob = b.take_to(B);
  ASSERT_EQ(bob.size(), 2u);  // Alice leaving, Bob's own new affiliation
  EXPECT_EQ(bob[1].child("x")->child("item")->attr("affiliation"), "owner");
  EXPECT_EQ(bob[1].child("x")->child("item")->attr("role"), "moderator");
  b.join("dave@example.com/x", "Dave");
  EXPECT_EQ(b.take_to("dave@example.com/x").size(), 3u);
}

}  // namespace
}  // namespace salon::muc::test
