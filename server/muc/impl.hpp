// SPDX-License-Identifier: GPL-3.0-or-later
// Service::Impl: the MUC service's state and behaviour, split over several files by concern
// (service.cpp dispatch, rooms.cpp lifecycle, join.cpp, presence.cpp, message.cpp, admin.cpp,
// owner.cpp, disco.cpp, iq_forward.cpp, persistence.cpp, host.cpp). Internal to server/muc/.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/iq.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "muc/room.hpp"
#include "muc/service.hpp"

namespace salon::muc {

// What goes into an occupant presence's <x xmlns='http://jabber.org/protocol/muc#user'/>
// besides the <item/>'s affiliation/role/jid.
struct MucX {
  std::vector<int> codes;  // status codes for every recipient
  std::string new_nick;    // <item nick=''/> (303 nick change)
  std::string actor_nick;  // <actor nick='' jid=''/>
  std::string actor_jid;
  std::string reason;
  const Element* destroy = nullptr;        // <destroy/> on room destruction
  std::optional<Affiliation> affiliation;  // shown instead of the current one (destroy)
};

// Who asked for an affiliation/role change (empty for the provisioning API).
struct Actor {
  Jid real;
  std::string nick;  // when the actor is an occupant
};

// An IQ forwarded to an occupant's real resource (XEP-0045 §7.8 style), awaiting its reply.
// The requester's IqResponder answers with from = the target's occupant JID (the original
// 'to'), to = the requester, id = the original id.
struct ForwardedIq {
  std::unique_ptr<IqResponder> reply;
  Jid target_real;  // where it was sent (full JID, or bare for vcard-temp)
  std::unique_ptr<boost::asio::steady_timer> timer;
  // Keys in Service::Impl::forward_counts: the room, and the requester in the room.
  std::string room_key, user_key;
};

// What the IQ router knows about the addressee of an IQ (server/core/iq.hpp).
struct MucIq {
  Room* room;  // nullptr for the service
  const Jid& from;
  std::string_view nick;  // the occupant addressed (IqTarget::occupant)
};
using MucIqRequest = BasicIqRequest<MucIq>;

struct Service::Impl final : plugin::Host {
  explicit Impl(ServiceDeps deps);
  ~Impl() override;

  // ---- plugin::Host (host.cpp)
  boost::asio::io_context& loop() override { return io; }
  Metrics& metrics() override { return metrics_; }
  db::Database& database() override;
  journal::Journal& journal() override;
  const std::string& service_domain() const override { return domain; }
  void on_room_iq(std::string_view type, std::string_view xmlns, plugin::RoomIqHandler h) override;
  void on_service_iq(std::string_view type, std::string_view xmlns,
                     plugin::ServiceIqHandler h) override;
  void add_room_feature(std::string var) override;
  void add_service_feature(std::string var) override;
  void set_history_provider(plugin::HistoryProvider provider) override;
  void declare_room_logging() override { room_logging = true; }
  bool broadcast_from_room(const Jid& room, Element message) override;
  void add_http_route(std::string_view method, std::string_view pattern,
                      http::Handler handler) override;
  void add_public_http_route(std::string_view method, std::string_view pattern,
                             http::Handler handler) override;
  void add_readiness_check(std::string name, std::function<CheckResult()> probe) override;

  // ---- dispatch (service.cpp)
  void handle(Element stanza);
  void handle_service_stanza(const Element& stanza, const Jid& from);
  void handle_service_iq(const Element& iq, const Jid& from);
  void send(Element stanza) { sink_->send(std::move(stanza)); }
  void send_error(const Element& stanza, const StanzaError& err);  // never for type=error
  IqResponder responder(const Element& iq);

  // ---- plugin dispatch (dispatch.cpp)
  std::optional<std::string> order_start();  // start_order and providers, or why not
  void order_hooks();                        // hook_order
  // Runs `f(plugin)` for every plugin in the hook's order; a throw is logged and counted and
  // the next plugin still runs.
  template <typename F>
  void fire(plugin::Hook h, F&& f);
  // The same for a hook that may refuse: stops at the first refusal; a throw refuses with
  // internal-server-error.
  template <typename F>
  std::optional<StanzaError> fire_refusable(plugin::Hook h, F&& f);
  void hook_failed(const plugin::Plugin& p, plugin::Hook h, std::string_view what);
  plugin::Plugin* provider(std::string_view service) override;

  // ---- rooms (rooms.cpp)
  void route_to_room(const std::string& local, Element stanza, const Jid& from, const Jid& to);
  // `generation`: provisioned_generation when the load started (a room provisioned since
  // then may be the one this "missing" answer missed: it is not remembered as missing).
  void on_room_loaded(const std::string& local, std::optional<RoomRecord> record, StoreError err,
                      std::uint64_t generation);
  // The negative cache of room names the store does not know ([muc] missing_room_cache_ms).
  bool known_missing(const std::string& local);
  void remember_missing(const std::string& local);
  void answer_missing_room(const Element& stanza);
  std::shared_ptr<Room> make_room(const RoomRecord& record);
  void room_stanza(Room& room, const Element& stanza, const Jid& from, const Jid& to);
  // Queues an idle room for unloading after [muc] idle_unload without activity.
  void maybe_unload(Room& room);
  void arm_idle_sweep(std::chrono::steady_clock::time_point at);
  void sweep_idle();
  // Queues a change of the room's stored state (Room::writes). `op` runs on the loop when the
  // previous change has finished; the next one starts when the last copy of the turn token it
  // is given is gone (keep it in the store callback), so an early return ends the turn too.
  using WriteTurn = std::shared_ptr<void>;
  void queue_write(Room& room, std::function<void(Room&, WriteTurn)> op);
  void next_write(Room& room);
  void unload(const std::string& local);
  plugin::RoomView room_view(const Room& room) const;
  plugin::OccupantView occupant_view(const Room& room, const Occupant& o) const;
  std::string make_occupant_id(const Room& room, const Jid& bare) const;

  // ---- presence (join.cpp, presence.cpp)
  void room_presence(Room& room, const Element& p, const Jid& from, const Jid& to);
  void join(Room& room, const Element& p, const Jid& from, const Jid& to);
  void join_session(Room& room, Occupant& o, const Element& p, const Jid& from,
                    std::vector<int> join_codes, std::chrono::steady_clock::time_point started,
                    bool new_occupant);
  void rejoin(Room& room, Occupant& o, const Element& p, const Jid& from);
  void send_join_sequence(Room& room, Occupant& o, const Element& p, const Jid& from,
                          std::vector<int> join_codes,
                          std::chrono::steady_clock::time_point started, bool new_occupant);
  std::vector<int> join_codes(const Room& room, const Element& p, const std::string& nick) const;
  void send_history_then_subject(Room& room, const std::string& nick, const Jid& real,
                                 const Element& join_presence,
                                 std::chrono::steady_clock::time_point started);
  void send_subject(Room& room, const Jid& to);
  void finish_joining(Room& room, const std::string& nick, const Jid& real);
  std::optional<StanzaError> check_nick(const Room& room, const std::string& nick,
                                        const Jid& bare) const;
  void presence_update(Room& room, Occupant& o, const Element& p, const Jid& from);
  void change_nick(Room& room, Occupant& o, const Element& p, const Jid& from,
                   const std::string& new_nick);
  void leave(Room& room, Occupant& o, const Element& p, const Jid& from);
  // Removes one resource; the occupant leaves when it was the last one. `self_notice` sends
  // the unavailable self-presence to that resource (not for ghosts, which are gone).
  void remove_session(Room& room, const std::string& nick, const Jid& real, MucX x,
                      const Element& payload, bool self_notice);
  // Removes the whole occupant (kick, ban, membership revoked, destroy).
  // `no_notice`: a resource that is not told (a ghost).
  void remove_occupant(Room& room, const std::string& nick, MucX x, const Element& payload,
                       const Jid* no_notice = nullptr);
  bool ghost_check(Room& room, const Element& error_stanza, const Jid& from);
  Element build_presence(const Room& room, const Occupant& o, const Element& payload,
                         bool unavailable, Role role, const Jid& item_jid, const MucX& x,
                         bool self) const;
  // Sends the occupant's current presence to everyone (others, then its own resources with
  // 110). `joining` gets `join_codes` in addition.
  void publicise(Room& room, Occupant& o, const MucX& x, const Jid* joining = nullptr,
                 const std::vector<int>& join_codes = {});
  void deliver(Room& room, const Jid& to, Element stanza);
  static Element client_payload(const Element& presence);

  // ---- messages (message.cpp)
  void room_message(Room& room, const Element& m, const Jid& from);
  void occupant_message(Room& room, const Element& m, const Jid& from, const std::string& nick);
  // Size, body length and rate of a message (invitations and declines included: each makes
  // the room send a message). Counts what it refuses in salon_muc_stanzas_refused_total.
  std::optional<StanzaError> check_message_limits(TokenBucket& bucket, const Element& m);
  std::optional<StanzaError> check_relay_limits(TokenBucket& bucket, const Element& m,
                                                const Element& relayed);
  // Presence size (client payload) and rate (per user and room).
  std::optional<StanzaError> check_presence_limits(Room& room, const Element& p, const Jid& from);
  // A token from `bucket`, or policy-violation (type wait) counted under `limit`.
  std::optional<StanzaError> take_token(TokenBucket& bucket, double rate, double burst,
                                        std::string_view limit, std::string text);
  void refused(std::string_view limit);
  void change_subject(Room& room, Occupant& o, const Element& m);
  void groupchat(Room& room, Occupant& o, const Element& m, const Jid& from);
  void mediated_invite(Room& room, const Element& m, const Jid& from, const Element& invite);
  void mediated_decline(Room& room, const Element& m, const Jid& from, const Element& decline);
  std::optional<StanzaError> commit(const plugin::MessageEvent& ev,
                                    const std::function<plugin::BroadcastHold()>& hold);
  void on_hold_settled(const std::weak_ptr<Room>& room, const std::shared_ptr<PendingMessage>& pm,
                       std::optional<StanzaError> err);
  void pump(Room& room);
  void broadcast(Room& room, PendingMessage& pm);

  // ---- room IQs (disco.cpp, admin.cpp, owner.cpp, iq_forward.cpp)
  // The core's own IQ handlers, registered like the plugins' (iq_routes.cpp).
  void route_core_iqs();
  // A (type, namespace) the core registered: a plugin may not take it over.
  [[nodiscard]] bool core_iq(std::string_view type, std::string_view xmlns) const {
    return core_iqs.contains(std::string(type) + ' ' + std::string(xmlns));
  }
  void room_iq(Room& room, const Element& iq, const Jid& from);
  void plugin_room_iq(const plugin::RoomIqHandler& h, const MucIqRequest& r, IqResponder reply);
  void forward_iq(const MucIqRequest& r, IqResponder reply);
  void disco_info(Room& room, const Element& iq, const Element& q, const Jid& from,
                  IqResponder reply);
  void register_get(Room& room, const Jid& from, IqResponder reply);
  void service_disco_info(const Element& q, IqResponder reply);
  void service_disco_items(const Element& q, const Jid& from, IqResponder reply);

  void admin_get(Room& room, const Element& q, const Jid& from, IqResponder reply);
  void admin_set(Room& room, const Element& q, const Jid& from, IqResponder reply, WriteTurn turn);
  // Applies a committed affiliation change in memory: occupants are updated, removed (301/321)
  // and told.
  void apply_affiliation(Room& room, const std::string& bare, std::optional<AffiliationRecord> rec,
                         const Actor* actor, const std::string& reason);
  void apply_role(Room& room, const std::string& nick, Role role, const Actor* actor,
                  const std::string& reason);

  void owner_get(Room& room, const Jid& from, IqResponder reply);
  void owner_set(Room& room, const Element& q, const Jid& from, IqResponder reply, WriteTurn turn);
  void destroy_room(Room& room, const Element* destroy);

  void occupant_iq(Room& room, const Element& iq, const Jid& from, const std::string& nick);
  void forwarded_reply(const Element& iq, const Jid& from);
  // Removes a forwarded IQ (answered or expired) and its share of forward_counts.
  void end_forward(std::unordered_map<std::string, ForwardedIq>::iterator it);

  // ---- persistence (persistence.cpp)
  void mark_dirty(Room& room);
  void save_occupants(Room& room);
  void restore(std::vector<RestoredRoom> rooms);
  void flush_all(std::function<void()> done);
  void check_flushed();

  // ---- gauges
  void occupants_changed(long delta);

  // ---- state
  boost::asio::io_context& io;
  std::shared_ptr<StanzaSink> sink_;
  Metrics& metrics_;
  RoomStore& store;
  db::Database* database_;
  journal::Journal* journal_;
  Readiness* readiness_;
  http::Server* http_;
  config::Config cfg;
  std::string domain;  // normalised component domain
  Jid service_jid;
  std::string occupant_id_key;
  std::chrono::milliseconds iq_forward_timeout;

  std::vector<std::unique_ptr<plugin::Plugin>> plugins;  // configuration order
  std::vector<plugin::Plugin*> start_order;              // providers first
  std::map<std::string, plugin::Plugin*, std::less<>> providers;
  std::array<std::vector<plugin::Plugin*>, plugin::kHookCount> hook_order;  // by plugin::Hook
  std::map<std::string, Counter*, std::less<>> plugin_errors;               // "plugin/hook"
  bool started = false;
  bool stopping = false;
  bool restoring = false;
  std::vector<Element> restore_queue;
  std::function<void()> stop_done;

  std::unordered_map<std::string, std::shared_ptr<Room>> rooms;
  // Rooms that went idle, in the order they did: one timer sweeps them (a timer per room
  // would cost ~250 bytes per loaded room). A room touched again since its entry is re-queued.
  struct IdleEntry {
    std::weak_ptr<Room> room;
    std::chrono::steady_clock::time_point since;
  };
  std::deque<IdleEntry> idle_queue;
  boost::asio::steady_timer idle_sweep{io};
  bool idle_sweep_armed = false;
  std::unordered_map<std::string, ForwardedIq> forwards;
  // Forwards awaiting an answer per room ("local") and per requester ("local/bare JID").
  std::unordered_map<std::string, std::size_t> forward_counts;
  // Room names the store said do not exist, until when; `missing_order` holds them oldest
  // first (one TTL for all: also in order of expiry), to evict and expire.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> missing_rooms;
  std::deque<std::pair<std::string, std::chrono::steady_clock::time_point>> missing_order;
  std::uint64_t provisioned_generation = 0;  // bumped by every project_changed
  std::uint64_t session_seq = 0;
  std::size_t occupant_total = 0;

  std::vector<std::string> room_features;  // the core's, then the plugins'
  bool room_logging = false;               // status 170 on join (declare_room_logging)
  std::vector<std::string> service_features;
  BasicIqRouter<MucIq> iq_router;               // every IQ to the service, a room or an occupant
  std::set<std::string, std::less<>> core_iqs;  // "type xmlns" (route_core_iqs)
  plugin::HistoryProvider history;
  struct HttpRoute {
    std::string method, pattern;
    http::Handler handler;
  };
  std::vector<HttpRoute> http_routes;  // what plugins registered (also without a server)
  http::Guard http_guard;              // Service::set_http_guard

  IqCounters iq_counters;
  Counter& joins_total;
  Counter& messages_total;
  Histogram& join_duration;
  Histogram& broadcast_duration;
  Gauge& rooms_loaded_gauge;
  Gauge& occupants_gauge;
  std::map<std::string, Counter*, std::less<>> refused_counters;  // by limit
  Counter& forwards_expired;
  Counter& missing_room_hits;

  // Guards callbacks from the store and timers against a destroyed service.
  std::shared_ptr<int> alive = std::make_shared<int>(0);
};

template <typename F>
void Service::Impl::fire(plugin::Hook h, F&& f) {
  for (plugin::Plugin* p : hook_order[static_cast<std::size_t>(h)]) {
    try {
      f(*p);
    } catch (const std::exception& e) {
      hook_failed(*p, h, e.what());
    } catch (...) {
      hook_failed(*p, h, "a non-standard exception");
    }
  }
}

template <typename F>
std::optional<StanzaError> Service::Impl::fire_refusable(plugin::Hook h, F&& f) {
  for (plugin::Plugin* p : hook_order[static_cast<std::size_t>(h)]) {
    try {
      if (std::optional<StanzaError> refusal = f(*p)) return refusal;
    } catch (const std::exception& e) {
      hook_failed(*p, h, e.what());
      return errors::internal_server_error();
    } catch (...) {
      hook_failed(*p, h, "a non-standard exception");
      return errors::internal_server_error();
    }
  }
  return std::nullopt;
}

// Status code lists are kept sorted and unique.
void add_code(std::vector<int>& codes, int code);

}  // namespace salon::muc
