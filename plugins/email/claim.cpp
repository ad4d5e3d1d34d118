// SPDX-License-Identifier: GPL-3.0-or-later
#include "claim.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <pqxx/pqxx>

#include "core/stamp.hpp"
#include "core/uuid.hpp"
#include "db/pg_array.hpp"
#include "mime.hpp"
#include "token.hpp"

namespace salon::email {
namespace {

std::string due_members_sql() {
  return "SELECT DISTINCT jid FROM (SELECT jid FROM email_pending "
         "WHERE due_at <= now() AND claimed_by IS NULL AND " +
         shard_filter("jid", 2, 3) + " ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED) d";
}

// What decides whether a due row still leads to an email. Scalar subqueries, not LEFT JOINs:
// an 8-way join took ~7 ms to plan per claim (0.4 ms to run); this takes ~1.3.
constexpr const char* kDueRooms =
    "SELECT e.room_id, e.jid, (extract(epoch FROM e.since) * 1000000)::bigint, r.jid_local, "
    "  r.name, a.email, a.nick, a.affiliation, "
    "  coalesce((SELECT p.mode FROM email_prefs p WHERE p.jid = e.jid), 'digest'), "
    "  (SELECT (extract(epoch FROM rs.read_at) * 1000000)::bigint FROM read_state rs "
    "   WHERE rs.room_id = e.room_id AND rs.jid = e.jid), "
    "  EXISTS (SELECT 1 FROM email_mutes u WHERE u.room_id = e.room_id AND u.jid = e.jid), "
    "  (SELECT b.address FROM email_bounces b WHERE b.jid = e.jid), "
    "  (SELECT t.next_allowed_at > now() FROM email_throttle t "
    "   WHERE t.room_id = e.room_id AND t.jid = e.jid), "
    "  (SELECT t.next_allowed_at FROM email_throttle t "
    "   WHERE t.room_id = e.room_id AND t.jid = e.jid) "
    "FROM email_pending e JOIN rooms r ON r.id = e.room_id "
    "LEFT JOIN affiliations a ON a.room_id = e.room_id AND a.jid = e.jid "
    "WHERE e.jid = ANY($1::text[]) AND e.due_at <= now() AND e.claimed_by IS NULL "
    "ORDER BY e.jid, e.since "
    "FOR UPDATE OF e SKIP LOCKED";

// The room's newest archived message (any sender) comes along: what the digest covers.
// Corrections and retractions are not news of their own (a correction shows up where the
// corrected message would have); chat states, markers and receipts are not archived at all.
constexpr const char* kNews =
    "SELECT nick, body, (extract(epoch FROM ts) * 1000000)::bigint, count(*) OVER (), "
    "(SELECT (extract(epoch FROM max(ts)) * 1000000)::bigint FROM archive WHERE room_id = $1) "
    "FROM archive WHERE room_id = $1 AND ts >= $2::timestamptz "
    "AND ts > coalesce(NULLIF($3, '')::timestamptz, '-infinity') AND sender_jid <> $4 "
    "AND kind = 'message' AND body IS NOT NULL AND NOT tombstone "
    "ORDER BY ts, id LIMIT $5";

constexpr const char* kNewest =
    "SELECT (extract(epoch FROM max(ts)) * 1000000)::bigint FROM archive WHERE room_id = $1";

std::string hex_digest(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < 8 && i < n; ++i)
    out += fmt::format("{:02x}", md[i]);
  return out;
}

struct Row {
  std::int64_t room_id = 0;
  std::string jid;
  std::int64_t since_us = 0;
  std::string project, name;
  std::optional<std::string> email, nick, affiliation;
  std::string mode;
  std::optional<std::int64_t> read_us;
  bool muted = false;
  std::optional<std::string> bounced;
  bool throttled = false;
  std::string next_allowed;
};

Row read_row(const pqxx::row& r) {
  Row x;
  x.room_id = r[0].as<std::int64_t>();
  x.jid = r[1].as<std::string>();
  x.since_us = r[2].as<std::int64_t>();
  x.project = r[3].as<std::string>();
  x.name = r[4].as<std::string>();
  if (!r[5].is_null()) x.email = r[5].as<std::string>();
  if (!r[6].is_null()) x.nick = r[6].as<std::string>();
  if (!r[7].is_null()) x.affiliation = r[7].as<std::string>();
  x.mode = r[8].as<std::string>();
  if (!r[9].is_null()) x.read_us = r[9].as<std::int64_t>();
  x.muted = r[10].as<bool>();
  if (!r[11].is_null()) x.bounced = r[11].as<std::string>();
  x.throttled = !r[12].is_null() && r[12].as<bool>();
  if (!r[13].is_null()) x.next_allowed = r[13].as<std::string>();
  return x;
}

// Why a due row no longer leads to an email; nullopt when it still may.
std::optional<std::string> drop_reason(const Row& x) {
  const bool member = x.affiliation && (*x.affiliation == "member" || *x.affiliation == "admin" ||
                                        *x.affiliation == "owner");
  if (!member) return "not_member";
  if (!x.email || x.email->empty() || !valid_address(*x.email)) return "no_address";
  if (x.mode != "digest" || x.muted) return "preference";
  if (x.bounced && *x.bounced == *x.email) return "bouncing";
  return std::nullopt;
}

// One member's digest: the rows it covers are claimed by the outbox row it becomes.
void claim_member(pqxx::dbtransaction& tx, const ClaimContext& ctx, std::vector<Row>& rows,
                  ClaimResult& out) {
  const Settings& s = ctx.settings;
  Digest d;
  std::vector<const Row*> covered;
  for (const Row& x : rows) {
    if (auto why = drop_reason(x)) {
      ++out.cancelled[*why];
      tx.exec_params0("DELETE FROM email_pending WHERE room_id = $1 AND jid = $2", x.room_id,
                      x.jid);
      out.handled.push_back({x.room_id, x.jid, std::numeric_limits<std::int64_t>::max()});
      continue;
    }
    if (x.throttled) {
      ++out.throttled;
      tx.exec_params0(
          "UPDATE email_pending SET due_at = $3::timestamptz "
          "WHERE room_id = $1 AND jid = $2",
          x.room_id, x.jid, x.next_allowed);
      continue;
    }
    RoomNews news = room_news(tx, x.room_id, x.jid, x.since_us, x.read_us, s.max_messages_per_room);
    if (news.total == 0) {
      ++out.cancelled["read"];  // everything since was read (or retracted)
      tx.exec_params0("DELETE FROM email_pending WHERE room_id = $1 AND jid = $2", x.room_id,
                      x.jid);
      out.handled.push_back({x.room_id, x.jid, news.through_us});
      continue;
    }
    d.jid = x.jid;
    d.address = *x.email;
    if (d.name.empty() && x.nick) d.name = *x.nick;
    d.rooms.push_back(DigestRoom{x.room_id, x.project, x.name, std::move(news.messages), news.total,
                                 news.through_us});
    covered.push_back(&x);
  }
  if (d.rooms.empty()) return;

  const auto id = tx.exec1("SELECT nextval('email_outbox_id_seq')")[0].as<std::int64_t>();
  std::string key = d.jid;
  for (const Row* x : covered)
    key += fmt::format("\n{}:{}", x->room_id, x->since_us);
  Message m;
  m.from_name = s.from_name;
  m.from_address = s.from_address;
  m.to_name = d.name;
  m.to_address = d.address;
  m.message_id = fmt::format("digest.{}.{}@{}", id, hex_digest(key), ctx.domain);
  m.date = std::chrono::system_clock::now();
  const std::string unsubscribe = unsubscribe_url(s.public_url, s.link_secret, d.jid);
  m.extra_headers = {{"List-Unsubscribe", "<" + unsubscribe + ">"},
                     {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
                     {"Auto-Submitted", "auto-generated"}};
  auto rendered =
      ctx.templates.render(d, RenderOptions{s.project_url, unsubscribe, s.max_excerpt_chars});
  if (auto* err = std::get_if<std::string>(&rendered))
    throw std::runtime_error("rendering the digest failed: " + *err);
  auto& r = std::get<Rendered>(rendered);
  m.subject = r.subject;
  m.text = std::move(r.text);
  m.html = std::move(r.html);
  const std::string raw = render_message(m, "=_salon_" + uuid4());
  tx.exec_params0(
      "INSERT INTO email_outbox (id, jid, address, message_id, subject, raw, state) "
      "VALUES ($1, $2, $3, $4, $5, $6, 'claimed')",
      id, d.jid, d.address, m.message_id, header_text(m.subject), raw);
  db::ArrayText rooms, throughs, counts;
  for (const auto& room : d.rooms) {
    rooms.add(room.room_id);
    throughs.add(format_stamp(room.through_us));
    counts.add(static_cast<std::int64_t>(room.total));
  }
  tx.exec_params0(
      "INSERT INTO email_outbox_rooms (outbox_id, room_id, through, messages) "
      "SELECT $1, r, t, n FROM unnest($2::bigint[], $3::timestamptz[], $4::int[]) AS u(r, t, n)",
      id, rooms.done(), throughs.done(), counts.done());
  tx.exec_params0(
      "UPDATE email_pending SET claimed_by = $1 WHERE jid = $2 AND room_id = ANY($3::bigint[])", id,
      d.jid, rooms.done());
  out.outbox.push_back(id);
}

}  // namespace

std::string shard_filter(std::string_view jid_column, int k_param, int n_param) {
  return fmt::format("(hashtext({}) & 2147483647) % ${} = ${}", jid_column, n_param, k_param);
}

RoomNews room_news(pqxx::dbtransaction& tx, std::int64_t room_id, const std::string& jid,
                   std::int64_t since_us, std::optional<std::int64_t> read_us, std::size_t limit) {
  RoomNews news;
  const auto rows = tx.exec_params(kNews, room_id, format_stamp(since_us),
                                   read_us ? format_stamp(*read_us) : std::string(), jid,
                                   static_cast<std::int64_t>(limit));
  news.through_us = since_us;
  for (const auto& r : rows) {
    news.messages.push_back(
        DigestMessage{r[0].as<std::string>(), r[2].as<std::int64_t>(), r[1].as<std::string>()});
    news.total = r[3].as<std::size_t>();
    news.through_us = r[4].as<std::int64_t>();
  }
  if (rows.empty()) {
    const auto newest = tx.exec_params1(kNewest, room_id);
    if (!newest[0].is_null()) news.through_us = newest[0].as<std::int64_t>();
  }
  return news;
}

ClaimResult claim_due(pqxx::connection_base& conn, const ClaimContext& ctx) {
  ClaimResult out;
  pqxx::work tx(conn, "email-claim");
  // No fsync of its own: the 'sending' UPDATE before the message's last byte is synchronous
  // and flushes the WAL up to itself, claim included. A claim lost with PostgreSQL leaves its
  // rows unclaimed, to be claimed again: nothing was sent.
  tx.exec0("SET LOCAL synchronous_commit = off");
  std::vector<std::string> members;
  for (const auto& r :
       tx.exec_params(due_members_sql(), static_cast<std::int64_t>(ctx.settings.claim_batch),
                      ctx.shard, ctx.shards))
    members.push_back(r[0].as<std::string>());
  if (members.empty()) return out;
  db::ArrayText jids;
  for (const auto& j : members)
    jids.add(j);
  std::vector<Row> rows;
  for (const auto& r : tx.exec_params(kDueRooms, jids.done()))
    rows.push_back(read_row(r));
  out.members = members.size();
  for (std::size_t i = 0; i < rows.size();) {
    std::size_t j = i;
    while (j < rows.size() && rows[j].jid == rows[i].jid)
      ++j;
    std::vector<Row> mine(std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(i)),
                          std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(j)));
    claim_member(tx, ctx, mine, out);
    i = j;
  }
  tx.commit();
  return out;
}

}  // namespace salon::email
