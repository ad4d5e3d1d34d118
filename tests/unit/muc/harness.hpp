// SPDX-License-Identifier: GPL-3.0-or-later
// A test bench for muc::Service: a MemoryRoomStore, a sink that records every outgoing stanza,
// and helpers to write stanzas as XML and compare outgoing ones exactly (attribute order
// ignored). The io_context runs until no handler is ready (timers that are not due stay
// pending), or for a given time when a test waits for a timer.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/iq.hpp"
#include "core/metrics.hpp"
#include "core/xml_parse.hpp"
#include "muc/ids.hpp"
#include "muc/service.hpp"
#include "muc/store_memory.hpp"

namespace salon::muc::test {

class RecordingSink final : public StanzaSink {
public:
  void send(Element stanza) override { sent.push_back(std::move(stanza)); }
  std::deque<Element> sent;
};

inline Element xml(const std::string& text) {
  auto e = parse_xml(text);
  if (!e) throw std::runtime_error("bad test XML: " + text);
  return *e;
}

// Attributes sorted, recursively: a canonical text for comparisons and readable failures.
inline Element canonical(Element e) {
  auto attrs = e.attrs();
  std::sort(attrs.begin(), attrs.end());
  Element out(e.name());
  for (auto& [k, v] : attrs)
    out.set_attr(k, v);
  out.set_text(e.text());
  for (auto& c : e.children())
    out.add_child(canonical(c));
  return out;
}
inline std::string canon(const Element& e) {
  return canonical(e).xml();
}
inline std::string canon(const std::string& text) {
  return canonical(xml(text)).xml();
}

struct Bench {
  explicit Bench(config::Config c = default_config()) : config(std::move(c)) { make_service(); }

  static config::Config default_config() {
    config::Config c;
    c.component.domain = "rooms.example.com";
    c.component.secret = "test-secret";
    return c;
  }

  void make_service() {
    ServiceDeps deps{io, sink, metrics, store, nullptr, nullptr, config, forward_timeout};
    deps.journal = journal;
    service = std::make_unique<Service>(std::move(deps));
  }

  // Runs every ready handler (posted completions, due timers) until nothing is ready.
  void settle() {
    for (int i = 0; i < 1000; ++i) {
      io.restart();
      if (io.poll() == 0) return;
    }
  }
  // Runs the loop for a while (for timers such as the write-behind delay).
  void run_for(std::chrono::milliseconds d) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(deadline - std::chrono::steady_clock::now());
    }
    settle();
  }

  void send(const std::string& text) {
    service->handle(xml(text));
    settle();
  }
  void send(Element e) {
    service->handle(std::move(e));
    settle();
  }

  // Takes every recorded stanza.
  std::vector<Element> take() {
    std::vector<Element> out(sink->sent.begin(), sink->sent.end());
    sink->sent.clear();
    return out;
  }
  // Takes the recorded stanzas addressed to `to`.
  std::vector<Element> take_to(const std::string& to) {
    std::vector<Element> out;
    std::deque<Element> rest;
    for (auto& e : sink->sent) {
      if (e.attr("to") == to)
        out.push_back(std::move(e));
      else
        rest.push_back(std::move(e));
    }
    sink->sent = std::move(rest);
    return out;
  }

  // A room with members: (bare JID, affiliation, reserved nick).
  void room(const std::string& local, const std::string& name,
            std::vector<std::tuple<std::string, Affiliation, std::string>> members) {
    store.add_room(local, name);
    for (auto& [jid, aff, nick] : members) {
      AffiliationRecord a;
      a.jid = jid;
      a.affiliation = aff;
      a.nick = nick;
      store.put_affiliation(local, a);
    }
  }

  config::Config config;
  std::chrono::milliseconds forward_timeout{30000};
  boost::asio::io_context io;
  std::shared_ptr<RecordingSink> sink = std::make_shared<RecordingSink>();
  Metrics metrics;
  MemoryRoomStore store{io};
  journal::Journal* journal = nullptr;  // set, then make_service() again, for a durable path
  std::unique_ptr<Service> service;
};

// An expected occupant presence as the room builds it: client payload, then
// <x muc#user><item/>[destroy]<status/>*</x>, then <occupant-id/>.
struct P {
  std::string from, to;
  std::string aff = "member", role = "participant", jid;
  std::vector<int> codes;
  std::string type;        // "" or "unavailable"
  std::string payload;     // client elements, as XML
  std::string item_inner;  // <actor/>, <reason/>
  std::string item_nick;   // nick='' on the item (303)
  std::string x_extra;     // e.g. <destroy/>
  std::string oid;
};
inline std::string presence_xml(const P& p) {
  std::string s = "<presence from='" + p.from + "' to='" + p.to + "'";
  if (!p.type.empty()) s += " type='" + p.type + "'";
  s += ">" + p.payload + "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='" +
       p.aff + "' role='" + p.role + "' jid='" + p.jid + "'";
  if (!p.item_nick.empty()) s += " nick='" + p.item_nick + "'";
  s += p.item_inner.empty() ? "/>" : ">" + p.item_inner + "</item>";
  s += p.x_extra;
  for (int c : p.codes)
    s += "<status code='" + std::to_string(c) + "'/>";
  s += "</x><occupant-id xmlns='urn:xmpp:occupant-id:0' id='" + p.oid + "'/></presence>";
  return s;
}

// A project room p1@rooms.example.com ("Kitchen") with an owner (Sam), an admin (Ada), two
// members (Alice, Bob) and an outcast (eve).
struct RoomBench : Bench {
  explicit RoomBench(config::Config c = default_config()) : Bench(std::move(c)) {
    room("p1", "Kitchen",
         {{"sam@example.com", Affiliation::owner, "Sam"},
          {"ada@example.com", Affiliation::admin, "Ada"},
          {"alice@example.com", Affiliation::member, "Alice"},
          {"bob@example.com", Affiliation::member, "Bob"},
          {"carol@example.com", Affiliation::member, ""},
          {"eve@example.com", Affiliation::outcast, ""}});
  }
  static constexpr const char* R = "p1@rooms.example.com";

  std::string oid(const std::string& user_bare) const {
    return occupant_id("salon occupant-id\n" + config.component.secret, R, user_bare);
  }
  void join(const std::string& full, const std::string& nick, const std::string& extra = {}) {
    send("<presence from='" + full + "' to='" + std::string(R) + "/" + nick +
         "'><x xmlns='http://jabber.org/protocol/muc'>" + extra + "</x></presence>");
  }
  // Joins and forgets what was sent.
  void joined(const std::string& full, const std::string& nick) {
    join(full, nick);
    take();
  }
  void groupchat(const std::string& full, const std::string& body, const std::string& id = "m1",
                 const std::string& extra = {}) {
    send("<message type='groupchat' id='" + id + "' from='" + full + "' to='" + std::string(R) +
         "'><body>" + body + "</body>" + extra + "</message>");
  }
  void iq(const std::string& full, const std::string& to, const std::string& type,
          const std::string& payload, const std::string& id = "q1") {
    send("<iq type='" + type + "' id='" + id + "' from='" + full + "' to='" + to + "'>" + payload +
         "</iq>");
  }
};

// Asserts that `actual` is exactly the expected XML (attribute order ignored).
#define EXPECT_STANZA(actual, expected_xml) EXPECT_EQ(canon(actual), canon(expected_xml))

}  // namespace salon::muc::test
