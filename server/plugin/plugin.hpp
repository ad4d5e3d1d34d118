// SPDX-License-Identifier: GPL-3.0-or-later
// The plugin interface: how archive, email, presence (and later plugins) see every room event
// first-hand without the core knowing them. Modelled on Prosody's MUC events:
//   muc-occupant-pre-join      -> Plugin::on_occupant_pre_join   (may refuse with an error)
//   muc-occupant-joined / left -> on_occupant_joined / on_occupant_left
//   presence updates           -> on_presence_changed
//   muc-broadcast-message      -> on_message_before_broadcast   (may add elements, refuse,
//                                 or hold the broadcast until it releases it)
//                                 on_message_commit  (every plugin accepted it: add rows
//                                 to the message's commit; the core holds the broadcast
//                                 until they are durable, one hold per message)
//                                 on_message_after_broadcast
//   subject change (muc-subject)   -> on_subject_changed (after it was sent to the occupants)
//   affiliation change (muc-set-affiliation) -> on_member_changed (a loaded room's member
//                                 was added, changed or removed: XMPP admin or the API)
//   muc-get-history            -> Host::set_history_provider
//   muc-disco#info             -> Host::add_room_feature / add_service_feature
//   IQ handlers by namespace   -> Host::on_room_iq / on_service_iq
//   HTTP routes under /api/v1/ -> Host::add_http_route
// Every hook has a no-op default, so a plugin overrides only what it needs. All hooks run on
// the event loop thread; a plugin that needs blocking work posts it to the database workers.
// One dispatcher runs them (server/muc/dispatch.cpp): in priority order, and a hook that throws
// is logged and counted in salon_plugin_errors_total{plugin,hook}; in a hook that may refuse
// (pre-join, before broadcast, commit) the exception refuses with internal-server-error, in
// the others the remaining plugins still run. docs/PLUGINS.md has the whole contract.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/affiliation.hpp"
#include "core/element.hpp"
#include "core/iq.hpp"
#include "core/jid.hpp"
#include "core/readiness.hpp"
#include "core/stanza.hpp"

namespace boost::asio {
class io_context;
}

namespace salon {
class Metrics;
namespace config {
struct PluginSection;
}  // namespace config
namespace db {
class Database;
}
namespace journal {
class Commit;
class Journal;
}  // namespace journal
namespace http {
struct Request;
struct Response;
using Respond = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Respond)>;
}  // namespace http
}  // namespace salon

namespace salon::plugin {

using Clock = std::chrono::system_clock;
// The core's XEP-0045 names (core/affiliation.hpp), under the names plugins have used.
using salon::Affiliation;
using salon::Role;

// Read-only views of room state handed to plugins. They are valid during the call only.
struct RoomView {
  Jid jid;              // project-id@rooms.example.com
  std::int64_t id = 0;  // database key (rooms.id)
  std::string name;
  std::string description;
  std::size_t occupant_count = 0;
  // The affiliation of a bare JID in this room (none when unaffiliated).
  std::function<Affiliation(const Jid& bare)> affiliation_of;
  // Every affiliated user (owner, admin, member; not outcasts) with whether any of their
  // resources is joined now: who misses a message that is broadcast now (the email plugin).
  using MemberVisitor = std::function<void(const std::string& bare, Affiliation, bool joined)>;
  std::function<void(const MemberVisitor&)> for_each_member;
};

struct OccupantView {
  Jid occupant_jid;  // room@service/nick
  std::string nick;
  Jid real_bare;               // the user's bare JID
  std::vector<Jid> resources;  // every joined full JID (multi-session nick)
  std::string occupant_id;     // XEP-0421
  Role role = Role::none;
  Affiliation affiliation = Affiliation::none;
};

struct PreJoin {
  const RoomView& room;
  Jid real_jid;  // full JID of the joining resource
  std::string nick;
  Affiliation affiliation = Affiliation::none;
  const Element& presence;
};

// A hold on a message's broadcast. The core broadcasts a message when every hold taken on it
// has been released; a failed hold bounces the message to its sender with the error instead
// (the archive holds each message until it is durably stored). Holds are move-only; one that
// is destroyed without release() or fail() fails with internal-server-error, so a forgotten
// hold can't stall a room silently. Must be released/failed on the loop thread.
class BroadcastHold {
public:
  struct State;
  explicit BroadcastHold(std::shared_ptr<State> state);
  BroadcastHold(BroadcastHold&&) noexcept;
  BroadcastHold& operator=(BroadcastHold&&) noexcept;
  ~BroadcastHold();
  void release();
  void fail(StanzaError error);

private:
  std::shared_ptr<State> state_;
};

struct MessageEvent {
  const RoomView& room;
  const OccupantView& sender;
  Jid sender_real;        // the sending resource
  Element& stanza;        // the groupchat message as it will be reflected (mutable
                          // before broadcast: plugins may add elements)
  std::string stanza_id;  // XEP-0359 id assigned by the room (by = room JID)
  Clock::time_point received_at;
  // Takes a hold on the broadcast (only valid in on_message_before_broadcast).
  std::function<BroadcastHold()> hold;
};

struct HistoryRequest {
  std::optional<std::size_t> max_stanzas;
  std::optional<std::size_t> max_chars;
  std::optional<std::chrono::seconds> seconds;
  std::optional<Clock::time_point> since;
};
// Answers the messages to replay on join, oldest first, each a full <message/> as reflected
// (the core adds <delay/> when the provider has not). Call `done` exactly once, on the loop.
using HistoryProvider =
    std::function<void(const RoomView&, const Jid& requester, const HistoryRequest&,
                       std::function<void(std::vector<Element>)> done)>;

// An IQ addressed to a room, after the core has found the room (a missing room has already
// been answered item-not-found) and the requester's affiliation.
struct RoomIq {
  const Element& iq;
  const Element& payload;
  const RoomView& room;
  Jid from;
  Affiliation from_affiliation = Affiliation::none;
  std::optional<OccupantView> from_occupant;  // the sender's occupant when it is in the room
};
using RoomIqHandler = std::function<void(const RoomIq&, IqResponder)>;
using ServiceIqHandler = std::function<void(const Element& iq, IqResponder)>;

class Plugin;

// What a plugin may use. Implemented by the core (server/muc/). A plugin's settings are its
// own [plugins.<name>] section, handed to start()/reload(): the whole config::Config (which
// holds the component secret and the API token) is not reachable from here. Nor is the link's
// raw StanzaSink: a plugin sends as the room (broadcast_from_room) or answers an IQ through its
// IqResponder, so it cannot put any 'from' it likes on the wire.
class Host {
public:
  virtual ~Host() = default;
  virtual boost::asio::io_context& loop() = 0;
  virtual Metrics& metrics() = 0;
  // Reads go through query() (reader threads), durable writes through write() (the writer).
  // Documented exceptions, which write on a reader thread in short transactions of their own
  // so that no held message waits behind them, and which carry no held message: the
  // archive's count fold (fold.cpp: archive_counts), its retention purge (retention.cpp) and
  // the API's purge of a room's messages (export.cpp), both batched DELETEs, and the API's
  // per-room retention setting (retention.cpp: archive_retention).
  virtual db::Database& database() = 0;
  // The durable write path: plugins add their tables at start() and submit rows that belong to
  // no broadcast message (e.g. a subject change) there; std::logic_error without a database.
  virtual journal::Journal& journal() = 0;
  virtual const std::string& service_domain() const = 0;

  virtual void on_room_iq(std::string_view type, std::string_view xmlns, RoomIqHandler h) = 0;
  virtual void on_service_iq(std::string_view type, std::string_view xmlns, ServiceIqHandler h) = 0;
  virtual void add_room_feature(std::string var) = 0;
  virtual void add_service_feature(std::string var) = 0;
  virtual void set_history_provider(HistoryProvider provider) = 0;
  // The rooms' messages are logged (XEP-0045 status code 170 in the self-presence on join).
  virtual void declare_room_logging() = 0;
  // Sends a message from the room itself (e.g. an XEP-0425 moderation notice) to every
  // occupant session of `room` (its bare JID), like a subject change: not through the message
  // pipeline. Sets from = the room. False when the room is not loaded (no occupants then).
  virtual bool broadcast_from_room(const Jid& room, Element message) = 0;
  // The started plugin that declared `service` in provides() (nullptr when none): a plugin
  // that depends() on it casts it to the type it knows.
  virtual Plugin* provider(std::string_view service) = 0;
  // Routes under /api/v1/ on salond's HTTP listener (bearer auth is checked by the core).
  virtual void add_http_route(std::string_view method, std::string_view pattern,
                              http::Handler handler) = 0;
  // A check listed by /readyz under `name` (e.g. "smtp"): a plugin's dependency is never
  // critical (salond stays ready, 200, with it named as degraded). `probe` runs on the loop
  // at each request and must not block.
  virtual void add_readiness_check(std::string name, std::function<CheckResult()> probe) = 0;
  // A route outside /api/v1/ without the bearer guard, for links people follow from outside
  // (e.g. RFC 8058 one-click unsubscribe, which authenticates by a signed token in the URL).
  // The handler authenticates the request itself. The core's own paths (/healthz, /readyz,
  // /metrics) and /api/ are refused (std::invalid_argument).
  virtual void add_public_http_route(std::string_view method, std::string_view pattern,
                                     http::Handler handler) = 0;
};

// The hooks, for priorities (Plugin::priority) and for the dispatcher's error accounting.
enum class Hook {
  occupant_pre_join,
  occupant_joined,
  occupant_left,
  presence_changed,
  message_before_broadcast,
  message_commit,
  message_after_broadcast,
  subject_changed,
  room_destroyed,
  member_changed,
};
inline constexpr std::size_t kHookCount = 10;
std::string_view to_string(Hook h);

class Plugin {
public:
  virtual ~Plugin() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  // Like Prosody's module:hook(name, fn, priority): for each hook, plugins run from the highest
  // priority down; equal priorities keep the configuration's order (alphabetical by name).
  // Default 0. E.g. a spam filter that refuses messages before the archive stores them would
  // return 10 for message_before_broadcast.
  [[nodiscard]] virtual int priority(Hook) const { return 0; }
  // What this plugin offers other plugins (e.g. "read-state") and what it needs from them:
  // start-up fails naming the missing provider, and providers start first.
  [[nodiscard]] virtual std::vector<std::string> provides() const { return {}; }
  [[nodiscard]] virtual std::vector<std::string> depends() const { return {}; }
  // Validates the section and starts; an error text (with key and line) refuses start-up.
  virtual std::optional<std::string> start(Host& host, const config::PluginSection& section) = 0;
  // The same validation as start(), without starting anything (`salond --check-config`):
  // what start() would refuse, check() must report.
  [[nodiscard]] virtual std::optional<std::string> check(const config::PluginSection&) const {
    return std::nullopt;
  }
  // SIGHUP with a changed section; an error keeps the old settings.
  virtual std::optional<std::string> reload(const config::PluginSection&) { return std::nullopt; }
  virtual void stop() {}

  virtual std::optional<StanzaError> on_occupant_pre_join(const PreJoin&) { return std::nullopt; }
  virtual void on_occupant_joined(const RoomView&, const OccupantView&) {}
  virtual void on_occupant_left(const RoomView&, const OccupantView&) {}
  virtual void on_presence_changed(const RoomView&, const OccupantView&, const Element&) {}
  virtual std::optional<StanzaError> on_message_before_broadcast(MessageEvent&) {
    return std::nullopt;
  }
  // Every plugin has accepted the message: the rows added to `commit` are stored with the
  // rows of every other plugin for it, in one transaction (all or nothing), before the
  // message is broadcast; if they cannot be, the sender gets an error instead.
  virtual void on_message_commit(const MessageEvent&, journal::Commit&) {}
  virtual void on_message_after_broadcast(const MessageEvent&) {}
  // A subject change (§8.1) as it was sent to the occupants (without 'to'). `at`: when the
  // room received it.
  virtual void on_subject_changed(const RoomView&, const OccupantView&, const Element&,
                                  Clock::time_point) {}
  virtual void on_room_destroyed(const RoomView&) {}
  // A loaded room's affiliation of `bare` changed to `now` (none: removed), after the store
  // committed it; also when the provisioning API rewrites a member (e.g. a new email address).
  virtual void on_member_changed(const RoomView&, const std::string& /*bare*/,
                                 Affiliation /*now*/) {}
};

// Compiled-in plugins: plugins/CMakeLists.txt generates the list of factories.
struct Factory {
  std::string_view name;
  std::unique_ptr<Plugin> (*make)();
};
std::vector<Factory> builtin_plugins();

}  // namespace salon::plugin
