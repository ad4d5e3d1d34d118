// SPDX-License-Identifier: GPL-3.0-or-later
// The IQ guard: every get/set IQ gets exactly one reply, whatever the handler does.
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <vector>

#include "core/iq.hpp"
#include "core/metrics.hpp"

namespace salon {
namespace {

struct RecordingSink : StanzaSink {
  std::vector<Element> sent;
  void send(Element s) override { sent.push_back(std::move(s)); }
};

Element make_iq(std::string_view type, std::string_view xmlns, std::string_view to = "rooms.h") {
  Element iq("iq");
  iq.set_attr("from", "u@h/r");
  iq.set_attr("to", std::string(to));
  iq.set_attr("id", "abc");
  iq.set_attr("type", std::string(type));
  iq.add_child("query", xmlns);
  return iq;
}

class IqGuard : public ::testing::Test {
protected:
  std::shared_ptr<RecordingSink> sink = std::make_shared<RecordingSink>();
  Metrics metrics;
  IqCounters counters{&metrics.counter("salon_iq_errors_sent_total", "x"),
                      &metrics.counter("salon_iq_unanswered_total", "x"),
                      &metrics.counter("salon_iq_double_answers_total", "x")};
  IqRouter router;
  void dispatch(const Element& iq, IqTarget t = IqTarget::service) {
    router.dispatch(iq, t, IqResponder(sink, iq, counters));
  }
  std::string only_reply_condition() {
    EXPECT_EQ(sink->sent.size(), 1u);
    if (sink->sent.empty()) return "";
    const Element& r = sink->sent.front();
    EXPECT_EQ(r.attr("id"), "abc");
    EXPECT_EQ(r.attr("from"), "rooms.h");
    EXPECT_EQ(r.attr("to"), "u@h/r");
    return std::string(error_condition(r));
  }
};

TEST_F(IqGuard, UnknownNamespaceGetsServiceUnavailable) {
  dispatch(make_iq("get", "urn:unknown"));
  EXPECT_EQ(only_reply_condition(), "service-unavailable");
}

TEST_F(IqGuard, HandlerResultIsTheOnlyReply) {
  router.on(IqTarget::service, "get", "urn:x", [](const IqRequest&, IqResponder r) {
    r.result(Element("query", "urn:x"));
    r.result();                   // ignored
    r.error(errors::conflict());  // ignored
  });
  dispatch(make_iq("get", "urn:x"));
  EXPECT_EQ(only_reply_condition(), "");
  EXPECT_EQ(sink->sent.front().attr("type"), "result");
  EXPECT_EQ(counters.double_answers->value(), 2u);
}

TEST_F(IqGuard, ForgettingToAnswerYieldsInternalServerError) {
  router.on(IqTarget::service, "get", "urn:x", [](const IqRequest&, IqResponder) {});
  dispatch(make_iq("get", "urn:x"));
  EXPECT_EQ(only_reply_condition(), "internal-server-error");
  EXPECT_EQ(counters.unanswered->value(), 1u);
}

TEST_F(IqGuard, ThrowingHandlerYieldsInternalServerError) {
  router.on(IqTarget::service, "set", "urn:x",
            [](const IqRequest&, IqResponder) { throw std::runtime_error("boom"); });
  dispatch(make_iq("set", "urn:x"));
  EXPECT_EQ(only_reply_condition(), "internal-server-error");
}

TEST_F(IqGuard, AsyncAnswerAfterMove) {
  std::optional<IqResponder> parked;
  router.on(IqTarget::room, "get", "urn:x",
            [&](const IqRequest&, IqResponder r) { parked.emplace(std::move(r)); });
  dispatch(make_iq("get", "urn:x"), IqTarget::room);
  EXPECT_TRUE(sink->sent.empty());  // not answered yet, and the move did not answer
  parked->error(errors::forbidden());
  EXPECT_EQ(only_reply_condition(), "forbidden");
  parked.reset();  // the answered responder's destructor adds nothing
  EXPECT_EQ(sink->sent.size(), 1u);
}

TEST_F(IqGuard, DroppedAsyncResponderAnswers) {
  std::optional<IqResponder> parked;
  router.on(IqTarget::room, "get", "urn:x",
            [&](const IqRequest&, IqResponder r) { parked.emplace(std::move(r)); });
  dispatch(make_iq("get", "urn:x"), IqTarget::room);
  parked.reset();  // e.g. a database job dropped at shutdown
  EXPECT_EQ(only_reply_condition(), "internal-server-error");
}

TEST_F(IqGuard, TargetsAreSeparate) {
  router.on(IqTarget::service, "get", "urn:x", [](const IqRequest&, IqResponder r) { r.result(); });
  dispatch(make_iq("get", "urn:x"), IqTarget::room);
  EXPECT_EQ(only_reply_condition(), "service-unavailable");
}

TEST_F(IqGuard, TypeMattersGetVsSet) {
  router.on(IqTarget::service, "get", "urn:x", [](const IqRequest&, IqResponder r) { r.result(); });
  dispatch(make_iq("set", "urn:x"));
  EXPECT_EQ(only_reply_condition(), "service-unavailable");
}

TEST_F(IqGuard, MissingOrExtraPayloadIsBadRequest) {
  Element iq = make_iq("get", "urn:x");
  iq.children().clear();
  dispatch(iq);
  EXPECT_EQ(only_reply_condition(), "bad-request");
  sink->sent.clear();
  Element two = make_iq("get", "urn:x");
  two.add_child("other", "urn:y");
  dispatch(two);
  EXPECT_EQ(only_reply_condition(), "bad-request");
}

TEST_F(IqGuard, ErrorsAreCounted) {
  dispatch(make_iq("get", "urn:unknown"));
  dispatch(make_iq("get", "urn:unknown"));
  EXPECT_EQ(counters.errors_sent->value(), 2u);
}

}  // namespace
}  // namespace salon
