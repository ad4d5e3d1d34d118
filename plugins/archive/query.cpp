// SPDX-License-Identifier: GPL-3.0-or-later
#include "query.hpp"

#include <charconv>
#include <limits>

#include "classify.hpp"
#include "core/jid.hpp"
#include "core/stamp.hpp"

namespace salon::archive {
namespace {

std::optional<std::size_t> parse_count(std::string_view s) {
  std::size_t v = 0;
  if (s.empty()) return std::nullopt;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string> values(const Element& field) {
  std::vector<std::string> out;
  for (const Element* v : field.children_named("value"))
    out.push_back(v->text());
  return out;
}

// `with` (XEP-0313 §4.1.1) in a room's archive: an occupant JID (room@service/nick) filters by
// nick, a user's JID by the sender's real bare JID, and a bare word is a nick. JIDs are
// compared prepared, as the archive stores them: Alice@Example.COM is alice@example.com.
std::optional<std::string> apply_with(MamQuery& q, std::string_view v, std::string_view room) {
  if (const auto jid = Jid::parse(v)) {
    if (jid->bare_str() == room && !jid->is_bare()) {
      q.with_nick = jid->resource();
      return std::nullopt;
    }
    if (!jid->local().empty()) {
      q.with_jid = jid->bare_str();
      return std::nullopt;
    }
  }
  if (v.find('@') != std::string_view::npos)
    return "field 'with' is not a valid JID: '" + std::string(v) + "'";
  auto nick = Jid::resourceprep(v);
  if (!nick) return "field 'with' is not a valid nick: '" + std::string(v) + "'";
  q.with_nick = std::move(*nick);
  return std::nullopt;
}

// One form field into `q`; an error text when it is unknown or malformed.
std::optional<std::string> apply_field(MamQuery& q, const Element& f, std::string_view room) {
  const std::string_view var = f.attr("var");
  const auto vals = values(f);
  if (var == "FORM_TYPE") {
    if (vals.size() != 1 || vals[0] != ns::mam) return "FORM_TYPE must be urn:xmpp:mam:2";
    return std::nullopt;
  }
  if (var == "ids") {
    if (vals.empty()) return "field 'ids' needs at least one value";
    // Each id is a bound parameter: keep the statement reasonable.
    if (vals.size() > 1000) return "field 'ids' has more than 1000 values";
    q.ids = vals;
    return std::nullopt;
  }
  if (vals.size() > 1) return "field '" + std::string(var) + "' takes one value";
  const std::string v = vals.empty() ? std::string() : vals[0];
  if (var == "start" || var == "end") {
    const auto t = parse_stamp(v);
    if (!t) return "field '" + std::string(var) + "' is not an XEP-0082 date-time: '" + v + "'";
    (var == "start" ? q.start_us : q.end_us) = t;
  } else if (var == "with") {
    if (v.empty()) return "field 'with' is empty";
    return apply_with(q, v, room);
  } else if (var == "after-id" || var == "before-id") {
    if (v.empty()) return "field '" + std::string(var) + "' is empty";
    (var == "after-id" ? q.after_id : q.before_id) = v;
  } else if (var == "{urn:xmpp:fulltext:0}fulltext") {
    if (!v.empty()) q.fulltext = v;
  } else {
    return "unknown field '" + std::string(var) + "'";
  }
  return std::nullopt;
}

std::optional<std::string> apply_rsm(MamQuery& q, const Element& set) {
  if (const Element* max = set.child("max")) {
    q.max = parse_count(max->text());
    if (!q.max) return "RSM <max/> is not a non-negative integer: '" + max->text() + "'";
  }
  if (const Element* after = set.child("after")) {
    if (after->text().empty()) return "RSM <after/> is empty";
    q.rsm_after = after->text();
  }
  if (const Element* before = set.child("before")) q.rsm_before = before->text();
  if (const Element* index = set.child("index")) {
    q.index = parse_count(index->text());
    if (!q.index) return "RSM <index/> is not a non-negative integer: '" + index->text() + "'";
    // It becomes the statement's OFFSET, a bigint.
    if (*q.index > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max()))
      return "RSM <index/> is out of range: '" + index->text() + "'";
  }
  if (q.rsm_after && q.rsm_before) return "RSM <after/> and <before/> together";
  if (q.index && (q.rsm_after || q.rsm_before)) return "RSM <index/> with <after/> or <before/>";
  return std::nullopt;
}

}  // namespace

std::vector<std::string> MamQuery::referenced_ids() const {
  std::vector<std::string> out;
  for (const auto* id : {&after_id, &before_id, &rsm_after})
    if (*id) out.push_back(**id);
  if (rsm_before && !rsm_before->empty()) out.push_back(*rsm_before);
  return out;
}

std::variant<MamQuery, QueryError> parse_query(const Element& query, std::string_view room) {
  MamQuery q;
  q.query_id = std::string(query.attr("queryid"));
  for (const Element& c : query.children()) {
    if (c.is("x", ns::data)) {
      if (c.attr("type") != "submit" && !c.attr("type").empty())
        return QueryError{"the form must be of type submit"};
      for (const Element* f : c.children_named("field"))
        if (auto err = apply_field(q, *f, room)) return QueryError{*err};
    } else if (c.is("set", ns::rsm)) {
      if (auto err = apply_rsm(q, c)) return QueryError{*err};
    } else if (c.name() == "flip-page" && (c.xmlns().empty() || c.xmlns() == ns::mam)) {
      // Without its own xmlns it inherits the query's (children keep the wire's attributes).
      q.flip_page = true;
    } else {
      return QueryError{"unexpected element <" + c.name() + "/> in the query"};
    }
  }
  if (!q.ids.empty() && (q.start_us || q.end_us || q.after_id || q.before_id))
    return QueryError{"field 'ids' cannot be combined with start, end, after-id or before-id"};
  if (q.start_us && q.end_us && *q.start_us > *q.end_us)
    return QueryError{"'start' is after 'end'"};
  return q;
}

std::size_t page_size(const MamQuery& q, std::size_t default_max, std::size_t cap) {
  return std::min(q.max.value_or(default_max), cap);
}

std::string Sql::add(std::string value) {
  params.push_back(std::move(value));
  return "$" + std::to_string(params.size());
}

void add_filters(Sql& sql, const MamQuery& q, const Bounds& b) {
  std::string& s = sql.text;
  s += " WHERE room_id = $1::bigint";
  if (q.start_us) s += " AND ts >= " + sql.add(format_stamp(*q.start_us)) + "::timestamptz";
  if (q.end_us) s += " AND ts <= " + sql.add(format_stamp(*q.end_us)) + "::timestamptz";
  if (q.with_jid) s += " AND sender_jid = " + sql.add(*q.with_jid);
  if (q.with_nick) s += " AND nick = " + sql.add(*q.with_nick);
  if (b.after) s += " AND id > " + sql.add(std::to_string(*b.after)) + "::bigint";
  if (b.before) s += " AND id < " + sql.add(std::to_string(*b.before)) + "::bigint";
  if (!q.ids.empty()) {
    s += " AND stanza_id IN (";
    for (std::size_t i = 0; i < q.ids.size(); ++i)
      s += (i ? ", " : "") + sql.add(q.ids[i]);
    s += ")";
  }
  // The expression of the optional GIN index (docs/ARCHIVE.md, "Full-text search").
  if (q.fulltext)
    s += " AND to_tsvector('simple', coalesce(body, '')) @@ plainto_tsquery('simple', " +
         sql.add(*q.fulltext) + ")";
}

Sql page_sql(const MamQuery& q, const Bounds& b, std::int64_t room_id, std::size_t limit,
             std::string_view columns) {
  Sql sql;
  sql.add(std::to_string(room_id));
  sql.text = "SELECT " + std::string(columns) + " FROM archive";
  add_filters(sql, q, b);
  if (b.rsm_after) sql.text += " AND id > " + sql.add(std::to_string(*b.rsm_after)) + "::bigint";
  if (b.rsm_before) sql.text += " AND id < " + sql.add(std::to_string(*b.rsm_before)) + "::bigint";
  sql.text += q.backward() ? " ORDER BY id DESC" : " ORDER BY id ASC";
  sql.text += " LIMIT " + sql.add(std::to_string(limit + 1)) + "::bigint";
  if (q.index && !q.backward())
    sql.text += " OFFSET " + sql.add(std::to_string(*q.index)) + "::bigint";
  return sql;
}

}  // namespace salon::archive
