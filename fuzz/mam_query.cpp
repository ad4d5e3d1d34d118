// SPDX-License-Identifier: GPL-3.0-or-later
// The archive's MAM query parser (XEP-0313 form + XEP-0059 RSM, plugins/archive/query.cpp),
// fed a <query/> as the link would deliver it (bytes -> parse_xml). Beyond "no crash":
//  - a query that parses, written back as a form and a <set/> and sent over the wire again,
//    parses to the same query (every value, stamps included, survives its own round trip);
//  - the page never exceeds the server's bound, and is the RSM max when that is within it;
//  - the RSM rules hold (after xor before, index alone) and every referenced id is non-empty;
//  - the SQL depends on the query's shape only, never on its values (they are all bound
//    parameters), and every parameter fits the type it is cast to.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "classify.hpp"
#include "core/stamp.hpp"
#include "core/xml_parse.hpp"
#include "fail.hpp"
#include "query.hpp"

namespace {

using salon::Element;
using salon::fuzz::fail;
using namespace salon::archive;

constexpr std::string_view kRoom = "p1@rooms.example.com";

void add_field(Element& x, std::string var, const std::vector<std::string>& values) {
  Element& f = x.add_child("field");
  f.set_attr("var", std::move(var));
  for (const auto& v : values)
    f.add_child("value").set_text(v);
}

// The query as a client would send it: every parsed value in its own field or RSM element.
Element write_query(const MamQuery& q) {
  Element query("query", ns::mam);
  if (!q.query_id.empty()) query.set_attr("queryid", q.query_id);
  Element& x = query.add_child("x", ns::data);
  x.set_attr("type", "submit");
  add_field(x, "FORM_TYPE", {std::string(ns::mam)});
  if (q.start_us) add_field(x, "start", {salon::format_stamp(*q.start_us)});
  if (q.end_us) add_field(x, "end", {salon::format_stamp(*q.end_us)});
  if (q.with_jid) add_field(x, "with", {*q.with_jid});
  if (q.with_nick) add_field(x, "with", {std::string(kRoom) + "/" + *q.with_nick});
  if (q.after_id) add_field(x, "after-id", {*q.after_id});
  if (q.before_id) add_field(x, "before-id", {*q.before_id});
  if (!q.ids.empty()) add_field(x, "ids", q.ids);
  if (q.fulltext) add_field(x, "{urn:xmpp:fulltext:0}fulltext", {*q.fulltext});
  Element& set = query.add_child("set", ns::rsm);
  if (q.max) set.add_child("max").set_text(std::to_string(*q.max));
  if (q.rsm_after) set.add_child("after").set_text(*q.rsm_after);
  if (q.rsm_before) set.add_child("before").set_text(*q.rsm_before);
  if (q.index) set.add_child("index").set_text(std::to_string(*q.index));
  if (q.flip_page) query.add_child("flip-page", ns::mam);
  return query;
}

void check_rules(const MamQuery& q) {
  if (q.rsm_after && q.rsm_before) fail("RSM after and before together");
  if (q.index && (q.rsm_after || q.rsm_before)) fail("RSM index with after or before");
  if (q.ids.size() > 1000) fail("more than 1000 ids");
  if (!q.ids.empty() && (q.start_us || q.end_us || q.after_id || q.before_id))
    fail("ids combined with start/end/after-id/before-id");
  if (q.start_us && q.end_us && *q.start_us > *q.end_us) fail("start after end");
  for (const auto& id : q.referenced_ids())
    if (id.empty()) fail("an empty referenced id");
  // The bound ([plugins.archive] default_page / max_page, and degenerate ones).
  for (const auto& [def, cap] :
       {std::pair<std::size_t, std::size_t>{50, 250}, {0, 0}, {250, 250}}) {
    const std::size_t n = page_size(q, def, cap);
    if (n > cap) fail("the page exceeds the server's bound");
    if (q.max && *q.max <= cap && n != *q.max) fail("the page is not the RSM max within the bound");
  }
}

// Every value replaced by the same placeholder: the statement's text must not change.
MamQuery blank_values(MamQuery q) {
  const std::string v = "v";
  for (auto* s : {&q.with_jid, &q.with_nick, &q.after_id, &q.before_id, &q.fulltext, &q.rsm_after})
    if (*s) **s = v;
  if (q.rsm_before && !q.rsm_before->empty()) q.rsm_before = v;
  for (auto& id : q.ids)
    id = v;
  if (q.start_us) q.start_us = 0;
  if (q.end_us) q.end_us = 0;
  if (q.index) q.index = 1;
  return q;
}

bool fits_int64(std::string_view s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Parameters cast to ::bigint must be int64 values; ::timestamptz ones must be stamps the
// parser reads back (PostgreSQL reads what format_stamp writes for years 1-9999 only).
void check_casts(const Sql& sql) {
  const std::string& t = sql.text;
  for (std::size_t i = 0; i < sql.params.size(); ++i) {
    const std::string ref = "$" + std::to_string(i + 1);
    for (std::size_t at = t.find(ref); at != std::string::npos; at = t.find(ref, at + 1)) {
      const std::size_t end = at + ref.size();
      if (end < t.size() && t[end] >= '0' && t[end] <= '9') continue;  // $1 inside $12
      const std::string_view cast = std::string_view(t).substr(end);
      if (cast.starts_with("::bigint") && !fits_int64(sql.params[i]))
        fail("a ::bigint parameter out of int64 range");
      if (cast.starts_with("::timestamptz") && !salon::parse_stamp(sql.params[i]))
        fail("a ::timestamptz parameter that is not a stamp");
    }
  }
}

void check_sql(const MamQuery& q) {
  Bounds b;
  if (q.after_id) b.after = 1;
  if (q.before_id) b.before = 2;
  if (q.rsm_after) b.rsm_after = 3;
  if (q.rsm_before && !q.rsm_before->empty()) b.rsm_before = 4;
  const std::size_t limit = page_size(q, 50, 250);
  const Sql sql = page_sql(q, b, 7, limit, "id");
  check_casts(sql);
  const Sql blank = page_sql(blank_values(q), b, 7, limit, "id");
  if (blank.text != sql.text || blank.params.size() != sql.params.size())
    fail("the SQL text depends on the query's values");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto e = salon::parse_xml(std::string_view(reinterpret_cast<const char*>(data), size));
  // mam.cpp answers bad-request before parsing anything but a <query/>.
  if (!e || e->name() != "query") return 0;
  const auto parsed = parse_query(*e, kRoom);
  if (const auto* err = std::get_if<QueryError>(&parsed)) {
    if (err->text.empty())
      fail("a bad-request without text");  // the bad-request text says what is wrong
    return 0;
  }
  const MamQuery& q = std::get<MamQuery>(parsed);
  check_rules(q);
  check_sql(q);
  // Written back, over the wire and parsed again: the same query.
  const auto again_xml = salon::parse_xml(write_query(q).xml());
  if (!again_xml) fail("the written query does not parse");
  const auto again = parse_query(*again_xml, kRoom);
  if (!std::holds_alternative<MamQuery>(again) || std::get<MamQuery>(again) != q)
    fail("the written query parses differently");
  return 0;
}
