// SPDX-License-Identifier: GPL-3.0-or-later
// A MAM query (XEP-0313 urn:xmpp:mam:2 + #extended) with its XEP-0059 RSM set, parsed and
// checked without touching the database (pure: unit-tested), and the SQL filter it becomes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/element.hpp"

namespace salon::archive {

struct MamQuery {
  std::string query_id;
  // Form fields.
  std::optional<std::int64_t> start_us, end_us;
  std::optional<std::string> with_jid;   // real bare JID of the sender, prepared
  std::optional<std::string> with_nick;  // resourceprep'd (given as room@service/nick or bare)
  std::optional<std::string> after_id, before_id;
  std::vector<std::string> ids;
  std::optional<std::string> fulltext;
  // RSM.
  std::optional<std::size_t> max;
  std::optional<std::string> rsm_after;
  std::optional<std::string> rsm_before;  // "" = the last page
  std::optional<std::size_t> index;
  bool flip_page = false;

  // Paging from the end: RSM <before/> (empty or an id) was given.
  [[nodiscard]] bool backward() const { return rsm_before.has_value(); }
  // Every stanza-id that must exist in the room (item-not-found otherwise).
  [[nodiscard]] std::vector<std::string> referenced_ids() const;
  friend bool operator==(const MamQuery&, const MamQuery&) = default;
};

struct QueryError {
  std::string text;  // bad-request text
};

// `room_jid` is the room's bare JID (a `with` of room@service/nick filters by nick).
std::variant<MamQuery, QueryError> parse_query(const Element& query, std::string_view room_jid);

// The page size: RSM max (default `default_max`), capped at `cap`.
std::size_t page_size(const MamQuery& q, std::size_t default_max, std::size_t cap);

// SQL text plus its parameters ($1 = room_id). Every value is a bound parameter.
struct Sql {
  std::string text;
  std::vector<std::string> params;
  std::string add(std::string value);  // appends a parameter, returns "$N"
};

// Archive ids of the referenced stanza-ids, once looked up.
struct Bounds {
  std::optional<std::int64_t> after, before;          // from form after-id/before-id
  std::optional<std::int64_t> rsm_after, rsm_before;  // from RSM after/before (an id)
};

// WHERE clause of the result set (form fields only: RSM does not change `count`).
void add_filters(Sql& sql, const MamQuery& q, const Bounds& b);
// The page: filters + the RSM position, ordered in paging direction, one row more than the
// page so that `complete` is known.
Sql page_sql(const MamQuery& q, const Bounds& b, std::int64_t room_id, std::size_t limit,
             std::string_view columns);

}  // namespace salon::archive
