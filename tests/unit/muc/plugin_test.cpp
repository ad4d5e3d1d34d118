// SPDX-License-Identifier: GPL-3.0-or-later
// The plugin host: hooks in order, broadcast holds kept in per-room FIFO order, refusals,
// pre-join refusal, history on join, IQ handlers and disco features added by plugins.
#include <algorithm>
#include <chrono>

#include "core/stamp.hpp"
#include "harness.hpp"

#include "journal/table.hpp"
#include "plugin/hold.hpp"

namespace salon::muc::test {
namespace {

constexpr const char* A = "alice@example.com/web";
constexpr const char* B = "bob@example.com/pc";

struct Recorder : plugin::Plugin {
  std::string_view name() const override { return "recorder"; }
  std::optional<std::string> start(plugin::Host&, const config::PluginSection&) override {
    return std::nullopt;
  }
  std::optional<StanzaError> on_occupant_pre_join(const plugin::PreJoin& p) override {
    events.push_back("pre-join " + p.nick);
    if (p.nick == "Blocked") return errors::not_allowed("blocked by plugin");
    return std::nullopt;
  }
  void on_occupant_joined(const plugin::RoomView& r, const plugin::OccupantView& o) override {
    events.push_back("joined " + o.nick + " " + std::to_string(r.occupant_count));
  }
  void on_occupant_left(const plugin::RoomView&, const plugin::OccupantView& o) override {
    events.push_back("left " + o.nick);
  }
  void on_presence_changed(const plugin::RoomView&, const plugin::OccupantView& o,
                           const Element&) override {
    events.push_back("presence " + o.nick);
  }
  std::optional<StanzaError> on_message_before_broadcast(plugin::MessageEvent& e) override {
    events.push_back("before " + std::string(e.stanza.child_text("body")));
    const std::string body(e.stanza.child_text("body"));
    if (body == "refuse") return errors::not_acceptable("refused by plugin");
    if (hold) holds.push_back(e.hold());
    e.stanza.add_child("archived", "urn:example");  // plugins may add elements
    return std::nullopt;
  }
  void on_message_after_broadcast(const plugin::MessageEvent& e) override {
    events.push_back("after " + std::string(e.stanza.child_text("body")) + " " + e.stanza_id);
  }
  void on_room_destroyed(const plugin::RoomView& r) override {
    events.push_back("destroyed " + r.jid.str());
  }
  bool hold = false;
  std::vector<plugin::BroadcastHold> holds;
  std::vector<std::string> events;
};

struct PluginBench : RoomBench {
  PluginBench() {
    auto p = std::make_unique<Recorder>();
    rec = p.get();
    service->add_plugin(std::move(p));
    EXPECT_FALSE(service->start());
    settle();
  }
  Recorder* rec;
};

TEST(Plugins, HooksSeeJoinMessageLeave) {
  PluginBench b;
  b.joined(A, "Alice");
  b.groupchat(A, "hello");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].child("archived", "urn:example"));
  const std::string sid(out[0].child("stanza-id")->attr("id"));
  b.send(
      "<presence from='alice@example.com/web' to='p1@rooms.example.com/Alice'>"
      "<show>away</show></presence>");
  b.send(
      "<presence type='unavailable' from='alice@example.com/web' "
      "to='p1@rooms.example.com/Alice'/>");
  EXPECT_EQ(b.rec->events,
            (std::vector<std::string>{"pre-join Alice", "joined Alice 1", "before hello",
                                      "after hello " + sid, "presence Alice", "left Alice"}));
}

TEST(Plugins, PreJoinRefusal) {
  PluginBench b;
  b.join(A, "Blocked");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "not-allowed");
  EXPECT_EQ(b.service->occupants(), 0u);
}

TEST(Plugins, RefusedMessageBouncesToSenderOnly) {
  PluginBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.groupchat(A, "refuse", "x1");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), A);
  EXPECT_EQ(out[0].attr("id"), "x1");
  EXPECT_EQ(error_condition(out[0]), "not-acceptable");
}

// The commit phase (issue 17 §1): after every plugin accepted the message, never for one that
// a later plugin refused, so no row is stored for a message nobody saw.
struct Committer : plugin::Plugin {
  std::string_view name() const override { return "committer"; }
  std::optional<std::string> start(plugin::Host&, const config::PluginSection&) override {
    return std::nullopt;
  }
  std::optional<StanzaError> on_message_before_broadcast(plugin::MessageEvent& e) override {
    events.push_back("before " + std::string(e.stanza.child_text("body")));
    return std::nullopt;
  }
  void on_message_commit(const plugin::MessageEvent& e, journal::Commit& c) override {
    events.push_back("commit " + std::string(e.stanza.child_text("body")));
    if (e.stanza.child_text("body") == "store me") c.add(table, 1);
  }
  struct Table final : journal::TableOf<int> {
    Table() : TableOf("committer") {}
    std::int64_t insert_rows(pqxx::dbtransaction&, Rows, journal::Source) override { return 0; }
    std::string encode_row(const int& v) const override { return std::to_string(v); }
    std::optional<int> decode_row(std::string_view) const override { return 0; }
  } table;
  std::vector<std::string> events;
};

struct CommitBench : RoomBench {
  CommitBench() {
    auto c = std::make_unique<Committer>();
    committer = c.get();
    service->add_plugin(std::move(c));  // first: a later plugin may still refuse
    auto p = std::make_unique<Recorder>();
    rec = p.get();
    service->add_plugin(std::move(p));
    EXPECT_FALSE(service->start());
    settle();
  }
  Committer* committer;
  Recorder* rec;
};

TEST(Plugins, TheCommitComesAfterEveryPluginAcceptedTheMessage) {
  CommitBench b;
  b.joined(A, "Alice");
  b.groupchat(A, "hello");
  b.groupchat(A, "refuse", "m2");
  EXPECT_EQ(b.committer->events,
            (std::vector<std::string>{"before hello", "commit hello", "before refuse"}));
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].child_text("body"), "hello");
  EXPECT_EQ(error_condition(out[1]), "not-acceptable");
}

// Rows with nowhere durable to go bounce the message rather than broadcast it unstored.
TEST(Plugins, RowsWithoutAJournalBounceTheMessage) {
  CommitBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.groupchat(A, "store me", "x1");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), A);
  EXPECT_EQ(out[0].attr("id"), "x1");
  EXPECT_EQ(error_condition(out[0]), "internal-server-error");
}

TEST(Plugins, HoldsKeepPerRoomOrder) {
  PluginBench b;
  b.joined(A, "Alice");
  b.rec->hold = true;
  b.groupchat(A, "one", "1");
  b.groupchat(A, "two", "2");
  b.groupchat(A, "three", "3");
  EXPECT_TRUE(b.take().empty());
  ASSERT_EQ(b.rec->holds.size(), 3u);
  // The third and second are stored first: nothing may overtake the first.
  b.rec->holds[2].release();
  b.rec->holds[1].release();
  b.settle();
  EXPECT_TRUE(b.take().empty());
  b.rec->holds[0].release();
  b.settle();
  auto out = b.take();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].child_text("body"), "one");
  EXPECT_EQ(out[1].child_text("body"), "two");
  EXPECT_EQ(out[2].child_text("body"), "three");
}

TEST(Plugins, FailedHoldBouncesAndLetsTheNextGo) {
  PluginBench b;
  b.joined(A, "Alice");
  b.rec->hold = true;
  b.groupchat(A, "one", "1");
  b.groupchat(A, "two", "2");
  b.rec->holds[1].release();
  b.rec->holds[0].fail(StanzaError::make(ErrorType::wait, "resource-constraint", "db down"));
  b.settle();
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].attr("type"), "error");
  EXPECT_EQ(out[0].attr("id"), "1");
  EXPECT_EQ(error_condition(out[0]), "resource-constraint");
  EXPECT_EQ(out[1].child_text("body"), "two");
}

TEST(Plugins, DroppedHoldFailsWithInternalServerError) {
  PluginBench b;
  b.joined(A, "Alice");
  b.rec->hold = true;
  b.groupchat(A, "one", "1");
  b.rec->holds.clear();  // destroyed without release()
  b.settle();
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "internal-server-error");
}

TEST(Plugins, HoldsAreIndependentPerRoom) {
  PluginBench b;
  b.store.add_room("p2", "Other");
  b.store.put_affiliation("p2", {"alice@example.com", Affiliation::member, "Alice", {}, {}, {}});
  b.joined(A, "Alice");
  b.send("<presence from='alice@example.com/web' to='p2@rooms.example.com/Alice'/>");
  b.take();
  b.rec->hold = true;
  b.groupchat(A, "held", "1");
  b.rec->hold = false;
  b.send(
      "<message type='groupchat' from='alice@example.com/web' to='p2@rooms.example.com'>"
      "<body>free</body></message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].child_text("body"), "free");
}

TEST(Plugins, HistoryComesBetweenSelfPresenceAndSubjectWithDelay) {
  PluginBench b;
  plugin::HistoryRequest seen;
  std::string requester;
  std::function<void(std::vector<Element>)> pending;
  b.service->host().set_history_provider([&](const plugin::RoomView& r, const Jid& who,
                                             const plugin::HistoryRequest& req,
                                             std::function<void(std::vector<Element>)> done) {
    EXPECT_EQ(r.jid.str(), "p1@rooms.example.com");
    requester = who.str();
    seen = req;
    pending = std::move(done);
  });
  b.joined(B, "Bob");
  pending({});  // Bob's history: none
  b.settle();
  b.take();
  b.join(A, "Alice", "<history maxstanzas='2' since='2026-01-02T03:04:05Z'/>");
  // History is in flight: Bob talks meanwhile; Alice must get it after the subject.
  b.groupchat(B, "live", "L");
  auto early = b.take_to(A);
  ASSERT_EQ(early.size(), 2u);  // Bob's presence, self-presence
  EXPECT_EQ(requester, A);
  EXPECT_EQ(seen.max_stanzas, std::optional<std::size_t>(2));
  ASSERT_TRUE(seen.since);
  EXPECT_EQ(plugin::Clock::to_time_t(*seen.since), 1767323045);
  Element old =
      xml("<message type='groupchat' from='p1@rooms.example.com/Bob'>"
          "<body>old</body></message>");
  Element stamped =
      xml("<message type='groupchat' from='p1@rooms.example.com/Bob'><body>"
          "older</body><delay xmlns='urn:xmpp:delay' stamp='2026-01-01T00:00:00Z'"
          "/></message>");
  pending({stamped, old});
  b.settle();
  auto out = b.take_to(A);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].child_text("body"), "older");
  EXPECT_EQ(out[0].child("delay")->attr("stamp"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(out[1].child_text("body"), "old");
  ASSERT_TRUE(out[1].child("delay", "urn:xmpp:delay"));
  EXPECT_EQ(out[1].child("delay")->attr("from"), "p1@rooms.example.com");
  EXPECT_TRUE(out[2].child("subject"));
  EXPECT_EQ(out[3].child_text("body"), "live");
}

// XEP-0082 dates are parsed strictly: sscanf + timegm read 2026-02-30 as 2 March and a
// fraction-less sign-led year as year 26; such a `since` is now no limit at all. The stamp of
// history without one is an XEP-0082 date-time too.
TEST(Plugins, AMalformedSinceIsNoLimit) {
  PluginBench b;
  std::vector<plugin::HistoryRequest> seen;
  b.service->host().set_history_provider([&](const plugin::RoomView&, const Jid&,
                                             const plugin::HistoryRequest& req,
                                             std::function<void(std::vector<Element>)> done) {
    seen.push_back(req);
    done(
        {xml("<message type='groupchat' from='p1@rooms.example.com/Bob'><body>x</body>"
             "</message>")});
  });
  b.join(A, "Alice", "<history since='2026-02-30T00:00:00Z'/>");
  b.join(B, "Bob", "<history since='+026-01-01T00:00:00Z'/>");
  b.join("carol@example.com/phone", "Carol", "<history since='2026-03-01T00:00:00.250Z'/>");
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_FALSE(seen[0].since);
  EXPECT_FALSE(seen[1].since);
  ASSERT_TRUE(seen[2].since);
  EXPECT_EQ(seen[2].since->time_since_epoch(),
            std::chrono::seconds(1772323200) + std::chrono::milliseconds(250));
  const auto out = b.take_to("carol@example.com/phone");
  const auto it = std::find_if(out.begin(), out.end(),
                               [](const Element& e) { return e.child_text("body") == "x"; });
  ASSERT_NE(it, out.end());
  EXPECT_TRUE(parse_stamp(it->child("delay", "urn:xmpp:delay")->attr("stamp")));
}

TEST(Plugins, MaxStanzasZeroSkipsTheProvider) {
  PluginBench b;
  int calls = 0;
  b.service->host().set_history_provider([&](const plugin::RoomView&, const Jid&,
                                             const plugin::HistoryRequest&,
                                             std::function<void(std::vector<Element>)> done) {
    ++calls;
    done({});
  });
  b.join(A, "Alice", "<history maxstanzas='0'/>");
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(b.take().size(), 2u);
}

TEST(Plugins, RoomIqHandlerAfterCoreNamespacesAndFeatures) {
  PluginBench b;
  b.service->host().add_room_feature("urn:xmpp:mam:2");
  std::optional<plugin::OccupantView> from;
  b.service->host().on_room_iq("set", "urn:xmpp:mam:2",
                               [&from](const plugin::RoomIq& q, IqResponder r) {
                                 EXPECT_EQ(q.from_affiliation, Affiliation::member);
                                 EXPECT_EQ(q.room.name, "Kitchen");
                                 from = q.from_occupant;
                                 r.result();
                               });
  // A plugin can't take over a core namespace.
  b.service->host().on_room_iq(
      "get", "http://jabber.org/protocol/disco#info",
      [](const plugin::RoomIq&, IqResponder r) { r.error(errors::not_allowed()); });
  b.iq(A, RoomBench::R, "set", "<query xmlns='urn:xmpp:mam:2'/>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("type"), "result");
  b.iq(A, RoomBench::R, "get", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("type"), "result");
  bool mam = false;
  for (const auto* f : out[0].child("query")->children_named("feature"))
    mam = mam || f->attr("var") == "urn:xmpp:mam:2";
  EXPECT_TRUE(mam);
  EXPECT_FALSE(from.has_value());  // not in the room

  b.joined(A, "Alice");
  b.iq(A, RoomBench::R, "set", "<query xmlns='urn:xmpp:mam:2'/>");
  ASSERT_EQ(b.take().size(), 1u);
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(from->nick, "Alice");
  EXPECT_EQ(from->occupant_jid.str(), std::string(RoomBench::R) + "/Alice");
  EXPECT_FALSE(from->occupant_id.empty());
}

TEST(Plugins, RoomDestroyedHook) {
  PluginBench b;
  b.joined(A, "Alice");
  b.service->project_deleted("p1");
  b.settle();
  EXPECT_EQ(b.rec->events.back(), "destroyed p1@rooms.example.com");
}

TEST(Plugins, HttpRoutesMustLiveUnderApiV1) {
  Bench b;
  EXPECT_THROW(b.service->host().add_http_route("GET", "/metrics", {}), std::invalid_argument);
  EXPECT_NO_THROW(b.service->host().add_http_route("GET", "/api/v1/archive/{id}", {}));
}

TEST(Metrics, JoinsMessagesAndGauges) {
  PluginBench b;
  b.joined(A, "Alice");
  b.joined(B, "Bob");
  b.groupchat(A, "one");
  b.groupchat(A, "two", "m2");
  b.take();
  EXPECT_EQ(b.metrics.counter("salon_muc_joins_total", "").value(), 2u);
  EXPECT_EQ(b.metrics.counter("salon_muc_messages_total", "").value(), 2u);
  EXPECT_EQ(b.metrics.gauge("salon_muc_occupants", "").value(), 2.0);
  EXPECT_EQ(b.metrics.gauge("salon_muc_rooms_loaded", "").value(), 1.0);
  EXPECT_EQ(b.metrics.histogram("salon_muc_join_duration_seconds", "").count(), 2u);
  EXPECT_EQ(b.metrics.histogram("salon_muc_broadcast_duration_seconds", "").count(), 2u);
}

TEST(Plugins, StartErrorIsReported) {
  struct Bad : plugin::Plugin {
    std::string_view name() const override { return "bad"; }
    std::optional<std::string> start(plugin::Host&, const config::PluginSection&) override {
      return std::string("key 'x': nope");
    }
  };
  Bench b;
  b.service->add_plugin(std::make_unique<Bad>());
  auto err = b.service->start();
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "plugin bad: key 'x': nope");
}

}  // namespace
}  // namespace salon::muc::test

namespace salon::muc::test {
namespace {

// Issue 17 §2: one dispatcher. Plugins that note their name for each hook they see.
struct Ordered : plugin::Plugin {
  Ordered(std::string n, int prio, std::vector<std::string>& log, bool throws = false)
      : name_(std::move(n)), prio_(prio), log_(log), throws_(throws) {}
  std::string_view name() const override { return name_; }
  int priority(plugin::Hook h) const override {
    return h == plugin::Hook::message_before_broadcast ? prio_ : 0;
  }
  std::optional<std::string> start(plugin::Host& host, const config::PluginSection&) override {
    started_with = host.provider("thing");
    log_.push_back("start " + name_);
    return std::nullopt;
  }
  std::optional<StanzaError> on_message_before_broadcast(plugin::MessageEvent&) override {
    log_.push_back("before " + name_);
    return std::nullopt;
  }
  void on_occupant_joined(const plugin::RoomView&, const plugin::OccupantView&) override {
    log_.push_back("joined " + name_);
    if (throws_) throw std::runtime_error("boom");
  }
  std::vector<std::string> provides() const override { return provides_; }
  std::vector<std::string> depends() const override { return depends_; }
  std::string name_;
  int prio_;
  std::vector<std::string>& log_;
  bool throws_;
  std::vector<std::string> provides_, depends_;
  plugin::Plugin* started_with = nullptr;
};

TEST(Dispatch, PriorityOrdersAHookAndTiesKeepTheConfigOrder) {
  RoomBench b;
  std::vector<std::string> log;
  b.service->add_plugin(std::make_unique<Ordered>("a", 0, log));
  b.service->add_plugin(std::make_unique<Ordered>("b", 10, log));
  b.service->add_plugin(std::make_unique<Ordered>("c", 0, log));
  ASSERT_FALSE(b.service->start());
  b.settle();
  b.joined(A, "Alice");
  log.clear();
  b.groupchat(A, "hi");
  EXPECT_EQ(log, (std::vector<std::string>{"before b", "before a", "before c"}));
}

TEST(Dispatch, AThrowingHookIsCountedAndTheOthersStillRun) {
  RoomBench b;
  std::vector<std::string> log;
  b.service->add_plugin(std::make_unique<Ordered>("a", 0, log, true));
  b.service->add_plugin(std::make_unique<Ordered>("b", 0, log));
  ASSERT_FALSE(b.service->start());
  b.settle();
  b.joined(A, "Alice");
  EXPECT_EQ(log, (std::vector<std::string>{"start a", "start b", "joined a", "joined b"}));
  EXPECT_EQ(
      b.metrics
          .counter("salon_plugin_errors_total", "", {{"plugin", "a"}, {"hook", "occupant_joined"}})
          .value(),
      1u);
  EXPECT_EQ(b.service->occupants(), 1u);  // the join itself went on
}

TEST(Dispatch, ProvidersStartFirstAndAreFoundByName) {
  RoomBench b;
  std::vector<std::string> log;
  auto user = std::make_unique<Ordered>("email", 0, log);
  user->depends_ = {"thing"};
  auto* u = user.get();
  auto maker = std::make_unique<Ordered>("presence", 0, log);
  maker->provides_ = {"thing"};
  auto* m = maker.get();
  b.service->add_plugin(std::move(user));  // configured first, started second
  b.service->add_plugin(std::move(maker));
  ASSERT_FALSE(b.service->start());
  EXPECT_EQ(log, (std::vector<std::string>{"start presence", "start email"}));
  EXPECT_EQ(u->started_with, m);
}

TEST(Dispatch, AMissingProviderRefusesStartUp) {
  RoomBench b;
  std::vector<std::string> log;
  auto user = std::make_unique<Ordered>("email", 0, log);
  user->depends_ = {"read-state"};
  b.service->add_plugin(std::move(user));
  const auto err = b.service->start();
  ASSERT_TRUE(err);
  EXPECT_EQ(*err,
            "plugin email depends on 'read-state', which no enabled plugin provides (or the "
            "dependencies form a cycle)");
  EXPECT_TRUE(log.empty());  // nothing started
}

}  // namespace
}  // namespace salon::muc::test
