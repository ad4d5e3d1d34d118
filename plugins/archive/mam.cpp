// SPDX-License-Identifier: GPL-3.0-or-later
// XEP-0313 MAM on the room JID: the query (set), the form and the metadata (get). Queries run
// on the database readers; the results are sent before the IQ result (§4.2), each as
// <message><result id=stanza-id><forwarded><delay/><message/></forwarded></result></message>.
#include <fmt/format.h>

#include "archive.hpp"
#include "core/log.hpp"
#include "core/stamp.hpp"
#include "db/database.hpp"

namespace salon::archive {
namespace {

bool may_query(const plugin::RoomIq& iq) {
  using plugin::Affiliation;
  return iq.from_affiliation == Affiliation::member || iq.from_affiliation == Affiliation::admin ||
         iq.from_affiliation == Affiliation::owner;
}

Element result_message(const Item& it, const std::string& query_id) {
  Element m("message");
  Element& r = m.add_child("result", ns::mam);
  if (!query_id.empty()) r.set_attr("queryid", query_id);
  r.set_attr("id", it.stanza_id);
  Element& f = r.add_child("forwarded", ns::forward);
  f.add_child("delay", ns::delay).set_attr("stamp", format_stamp(it.ts_us));
  f.add_child(it.message);
  return m;
}

// `p.items` is in the order sent (already reversed for flip-page): <first/> and <last/> name
// the first and last item sent; the index is <first/>'s position in the result set in archive
// order.
Element fin(const Page& p, bool flip) {
  Element fin("fin", ns::mam);
  if (p.complete) fin.set_attr("complete", "true");
  Element& set = fin.add_child("set", ns::rsm);
  if (!p.items.empty()) {
    const auto index =
        flip ? p.first_index + static_cast<std::int64_t>(p.items.size()) - 1 : p.first_index;
    set.add_child("first")
        .set_attr("index", std::to_string(index))
        .set_text(p.items.front().stanza_id);
    set.add_child("last").set_text(p.items.back().stanza_id);
  }
  set.add_child("count").set_text(std::to_string(p.count));
  return fin;
}

Element form() {
  Element q("query", ns::mam);
  Element& x = q.add_child("x", ns::data);
  x.set_attr("type", "form");
  const auto field = [&](std::string var, std::string type) -> Element& {
    Element& f = x.add_child("field");
    f.set_attr("var", std::move(var)).set_attr("type", std::move(type));
    return f;
  };
  field("FORM_TYPE", "hidden").add_child("value").set_text(std::string(ns::mam));
  field("with", "jid-single");
  field("start", "text-single");
  field("end", "text-single");
  field("before-id", "text-single");
  field("after-id", "text-single");
  field("ids", "text-multi");
  field("{urn:xmpp:fulltext:0}fulltext", "text-single");
  return q;
}

}  // namespace

void ArchivePlugin::mam_query(const plugin::RoomIq& iq, IqResponder reply) {
  if (!may_query(iq)) return reply.error(errors::forbidden("only members may query the archive"));
  if (iq.payload.name() != "query")
    return reply.error(errors::bad_request("expected <query xmlns='urn:xmpp:mam:2'/>"));
  const std::string room_jid = iq.room.jid.bare_str();
  auto parsed = parse_query(iq.payload, room_jid);
  if (auto* err = std::get_if<QueryError>(&parsed))
    return reply.error(errors::bad_request(err->text));
  auto q = std::make_shared<const MamQuery>(std::get<MamQuery>(std::move(parsed)));
  const std::size_t limit = page_size(*q, settings_.default_page, settings_.max_page);
  const std::int64_t room_id = iq.room.id;
  auto responder = std::make_shared<IqResponder>(std::move(reply));
  host_->database().query(
      [q, room_id, room_jid, limit, bad = unreadable_](pqxx::connection_base& conn) {
        return run_query(conn, *q, room_id, room_jid, limit, bad.get());
      },
      [q, responder](db::Result<Page> r) {
        if (!r) {
          log::warn("archive", "MAM query failed: {}", r.error());
          StanzaError e = errors::internal_server_error("the archive is unavailable");
          e.type = ErrorType::wait;
          return responder->error(e);
        }
        Page& page = r.value();
        if (page.missing_id)
          return responder->error(
              errors::item_not_found("no message " + *page.missing_id + " in this archive"));
        if (q->flip_page) std::reverse(page.items.begin(), page.items.end());
        for (const Item& it : page.items)
          responder->send_before(result_message(it, q->query_id));
        responder->result(fin(page, q->flip_page));
      },
      db::QueryOptions{.idempotent = true});
}

void ArchivePlugin::mam_get(const plugin::RoomIq& iq, IqResponder reply) {
  if (!may_query(iq)) return reply.error(errors::forbidden("only members may query the archive"));
  if (iq.payload.name() == "query") return reply.result(form());
  if (iq.payload.name() != "metadata")
    return reply.error(errors::bad_request("expected <query/> or <metadata/>"));
  const std::int64_t room_id = iq.room.id;
  auto responder = std::make_shared<IqResponder>(std::move(reply));
  host_->database().query(
      [room_id](pqxx::connection_base& conn) { return read_metadata(conn, room_id); },
      [responder](db::Result<Metadata> r) {
        if (!r) {
          StanzaError e = errors::internal_server_error("the archive is unavailable");
          e.type = ErrorType::wait;
          return responder->error(e);
        }
        Element md("metadata", ns::mam);
        const auto add = [&](const char* name, const std::optional<Item>& it) {
          if (it)
            md.add_child(name)
                .set_attr("id", it->stanza_id)
                .set_attr("timestamp", format_stamp(it->ts_us));
        };
        add("start", r.value().first);
        add("end", r.value().last);
        responder->result(std::move(md));
      },
      db::QueryOptions{.idempotent = true});
}

}  // namespace salon::archive
