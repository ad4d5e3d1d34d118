// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/iq.hpp"

#include <exception>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/xml_parse.hpp"

namespace salon {

void StanzaSink::send_serialised(std::string xml, std::string_view kind) {
  if (auto e = parse_xml(xml)) return send(std::move(*e));
  log::error("sink", "dropping a serialised {} that does not parse back", kind);
}

IqResponder::IqResponder(std::shared_ptr<StanzaSink> sink, const Element& iq, IqCounters counters)
    : sink_(std::move(sink)),
      id_(iq.attr("id")),
      from_(iq.attr("from")),
      to_(iq.attr("to")),
      counters_(counters) {}

IqResponder::IqResponder(IqResponder&& other) noexcept
    : sink_(std::move(other.sink_)),
      id_(std::move(other.id_)),
      from_(std::move(other.from_)),
      to_(std::move(other.to_)),
      counters_(other.counters_),
      answered_(other.answered_) {
  other.moved_from_ = true;
}

IqResponder::~IqResponder() {
  if (moved_from_ || answered_) return;
  if (counters_.unanswered) counters_.unanswered->inc();
  log::error("iq",
             "IQ id='{}' from {} to {} was not answered by its handler; replying "
             "internal-server-error",
             id_, from_, to_);
  try {
    error(errors::internal_server_error("request was not answered"));
  } catch (...) {
    // A destructor must not throw; the link logs its own send failures.
  }
}

bool IqResponder::claim() {
  if (moved_from_) return false;
  if (answered_) {
    if (counters_.double_answers) counters_.double_answers->inc();
    log::error("iq", "second answer to IQ id='{}' from {} ignored", id_, from_);
    return false;
  }
  answered_ = true;
  return true;
}

namespace {
Element reply_header(std::string_view type, const std::string& id, const std::string& from,
                     const std::string& to) {
  Element r("iq");
  r.set_attr("type", std::string(type));
  r.set_attr("id", id);
  if (!to.empty()) r.set_attr("from", to);
  if (!from.empty()) r.set_attr("to", from);
  return r;
}
}  // namespace

void IqResponder::result(Element payload) {
  if (!claim()) return;
  Element r = reply_header("result", id_, from_, to_);
  if (!payload.name().empty()) r.add_child(std::move(payload));
  if (sink_) sink_->send(std::move(r));
}

void IqResponder::error(const StanzaError& err) {
  if (!claim()) return;
  Element r = reply_header("error", id_, from_, to_);
  r.add_child(err.to_element());
  if (counters_.errors_sent) counters_.errors_sent->inc();
  if (sink_) sink_->send(std::move(r));
}

void IqResponder::send_before(Element stanza) {
  if (answered_ || moved_from_ || !sink_) return;
  if (!stanza.has_attr("from")) stanza.set_attr("from", to_);
  if (!stanza.has_attr("to")) stanza.set_attr("to", from_);
  sink_->send(std::move(stanza));
}

namespace iq_detail {

const Element* checked_payload(const Element& iq, IqResponder& reply) {
  const std::string_view type = iq.attr("type");
  if (type != "get" && type != "set") {
    reply.error(errors::bad_request("IQ type must be get or set"));
    return nullptr;
  }
  if (iq.children().size() != 1) {
    reply.error(errors::bad_request("an IQ get/set must contain exactly one payload element"));
    return nullptr;
  }
  return &iq.children().front();
}

void log_throw(std::string_view xmlns, const char* what) {
  log::error("iq", "handler for {} threw: {}", xmlns, what);
}

}  // namespace iq_detail

}  // namespace salon
