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

struct IqRequest {
  const Element& iq;       // the whole <iq/>
  const Element* payload;  // its first child element (nullptr when none)
  IqTarget target;
};

using IqHandler = std::function<void(const IqRequest&, IqResponder)>;

class IqRouter {
public:
  // type is "get" or "set"; xmlns is the payload's namespace. Registering the same key twice
  // replaces the handler (and is logged by the caller).
  void on(IqTarget target, std::string_view type, std::string_view xmlns, IqHandler handler);
  void remove(IqTarget target, std::string_view type, std::string_view xmlns);
  [[nodiscard]] bool has(IqTarget target, std::string_view type, std::string_view xmlns) const;
  // Dispatches; always leads to exactly one reply through `reply`.
  void dispatch(const Element& iq, IqTarget target, IqResponder reply) const;

private:
  using Key = std::tuple<IqTarget, std::string, std::string>;
  std::map<Key, IqHandler, std::less<>> handlers_;
};

}  // namespace salon
