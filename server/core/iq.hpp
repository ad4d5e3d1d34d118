// SPDX-License-Identifier: GPL-3.0-or-later
// "Every IQ gets exactly one reply", by structure:
//  - An IqResponder is created for every incoming IQ get/set. It can answer once; a second
//    answer is ignored (and counted). If it is destroyed unanswered — a handler forgot, threw,
//    or an async job was dropped — its destructor answers internal-server-error.
//  - IqRouter finds the handler by (target kind, type, payload namespace); no handler means
//    service-unavailable at once (RFC 6120 §8.4). A handler that throws gets
//    internal-server-error.
// Replies always carry from = the IQ's original 'to', so the client can match them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "core/element.hpp"
#include "core/stanza.hpp"

namespace salon {

class Metrics;
class Counter;

// Where stanzas go out. Thread-safe: implementations hand off to the event loop when called
// from another thread.
class StanzaSink {
public:
  virtual ~StanzaSink() = default;
  virtual void send(Element stanza) = 0;
  // A stanza serialised already: a room broadcast serialises a message once and splices each
  // recipient's 'to' into the text. `kind` is the element name (for metrics). The default
  // parses it back for sinks that only take Elements (tests); the XMPP link sends the text.
  virtual void send_serialised(std::string xml, std::string_view kind);
};

struct IqCounters {
  Counter* errors_sent = nullptr;     // salon_iq_errors_sent_total (any error reply)
  Counter* unanswered = nullptr;      // salon_iq_unanswered_total (guard had to answer)
  Counter* double_answers = nullptr;  // salon_iq_double_answers_total
};

class IqResponder {
public:
  IqResponder(std::shared_ptr<StanzaSink> sink, const Element& iq, IqCounters counters = {});
  IqResponder(IqResponder&& other) noexcept;
  IqResponder& operator=(IqResponder&&) = delete;
  IqResponder(const IqResponder&) = delete;
  IqResponder& operator=(const IqResponder&) = delete;
  ~IqResponder();

  // Answers type='result', with `payload` as the only child when it has a name.
  void result(Element payload = {});
  void error(const StanzaError& err);
  // Sends stanzas that precede the result (e.g. MAM <message/> results) with from/to set.
  void send_before(Element stanza);
  [[nodiscard]] bool answered() const { return answered_; }
  // The request's addressing (from the requester's point of view).
  [[nodiscard]] const std::string& requester() const { return from_; }
  [[nodiscard]] const std::string& target() const { return to_; }
  [[nodiscard]] const std::string& id() const { return id_; }

private:
  bool claim();
  std::shared_ptr<StanzaSink> sink_;
  std::string id_, from_, to_;
  IqCounters counters_;
  bool answered_ = false;
  bool moved_from_ = false;
};

// Which entity of the domain an IQ is addressed to.
enum class IqTarget { service, room, occupant };

struct NoIqContext {};

template <typename Context>
struct BasicIqRequest {
  const Element& iq;       // the whole <iq/>
  const Element* payload;  // its only child element (never nullptr in a handler)
  IqTarget target;
  Context& context;  // what the dispatcher knows about the addressee (e.g. the room)
};
using IqRequest = BasicIqRequest<NoIqContext>;

namespace iq_detail {
// Answers bad-request unless the IQ is a get/set with exactly one payload child (RFC 6120
// §8.2.3); returns the payload, or nullptr when it answered.
const Element* checked_payload(const Element& iq, IqResponder& reply);
void log_throw(std::string_view xmlns, const char* what);
}  // namespace iq_detail

// One router per dispatcher: the core's own IQs (disco, ping, muc#admin, ...) and the plugins'
// are registered alike, so a missing handler, a bad payload or a throwing handler is answered
// the same way for all of them, exactly once.
template <typename Context>
class BasicIqRouter {
public:
  using Handler = std::function<void(const BasicIqRequest<Context>&, IqResponder)>;

  // type is "get" or "set"; xmlns is the payload's namespace. Registering the same key twice
  // replaces the handler (and is logged by the caller).
  void on(IqTarget target, std::string_view type, std::string_view xmlns, Handler handler) {
    handlers_[Key{target, std::string(type), std::string(xmlns)}] = std::move(handler);
  }
  // For every IQ to `target` without a handler of its own (e.g. one forwarded to an occupant).
  void otherwise(IqTarget target, Handler handler) { fallback_[target] = std::move(handler); }
  void remove(IqTarget target, std::string_view type, std::string_view xmlns) {
    handlers_.erase(Key{target, std::string(type), std::string(xmlns)});
  }
  [[nodiscard]] bool has(IqTarget target, std::string_view type, std::string_view xmlns) const {
    return handlers_.count(Key{target, std::string(type), std::string(xmlns)}) > 0;
  }

  // Dispatches; always leads to exactly one reply through `reply`. The responder is moved into
  // the handler; if the handler throws, the responder's destructor (during unwinding, or here
  // when it was not moved on) answers internal-server-error.
  void dispatch(const Element& iq, IqTarget target, Context& context, IqResponder reply) const {
    const Element* payload = iq_detail::checked_payload(iq, reply);
    if (!payload) return;
    const auto it = handlers_.find(Key{target, std::string(iq.attr("type")), payload->xmlns()});
    const Handler* h = it != handlers_.end() ? &it->second : nullptr;
    if (!h)
      if (auto f = fallback_.find(target); f != fallback_.end()) h = &f->second;
    if (!h) return reply.error(errors::service_unavailable());
    try {
      (*h)(BasicIqRequest<Context>{iq, payload, target, context}, std::move(reply));
    } catch (const std::exception& e) {
      iq_detail::log_throw(payload->xmlns(), e.what());
    } catch (...) {
      iq_detail::log_throw(payload->xmlns(), "a non-standard exception");
    }
  }
  void dispatch(const Element& iq, IqTarget target,
                IqResponder reply) const requires std::is_same_v<Context, NoIqContext> {
    NoIqContext none;
    dispatch(iq, target, none, std::move(reply));
  }

private:
  using Key = std::tuple<IqTarget, std::string, std::string>;
  std::map<Key, Handler, std::less<>> handlers_;
  std::map<IqTarget, Handler> fallback_;
};
using IqRouter = BasicIqRouter<NoIqContext>;

}  // namespace salon
