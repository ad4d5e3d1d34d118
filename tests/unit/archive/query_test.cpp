// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "classify.hpp"
#include "config/config.hpp"
#include "core/xml_parse.hpp"
#include "query.hpp"
#include "settings.hpp"

namespace salon::archive {
namespace {

constexpr std::string_view kRoom = "p1@rooms.example.com";

std::string form(std::string_view fields) {
  return "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
         "<value>urn:xmpp:mam:2</value></field>" +
         std::string(fields) + "</x>";
}

std::variant<MamQuery, QueryError> parse(std::string_view inner) {
  auto e =
      parse_xml("<query xmlns='urn:xmpp:mam:2' queryid='q1'>" + std::string(inner) + "</query>");
  EXPECT_TRUE(e) << inner;
  return parse_query(*e, kRoom);
}

MamQuery ok(std::string_view inner) {
  auto r = parse(inner);
  if (auto* err = std::get_if<QueryError>(&r)) ADD_FAILURE() << err->text;
  return std::get<MamQuery>(r);
}

std::string error(std::string_view inner) {
  auto r = parse(inner);
  auto* err = std::get_if<QueryError>(&r);
  return err ? err->text : "<no error>";
}

TEST(MamQuery, EmptyQueryIsTheWholeArchiveForward) {
  MamQuery q = ok("");
  EXPECT_EQ(q.query_id, "q1");
  EXPECT_FALSE(q.backward());
  EXPECT_EQ(page_size(q, 50, 250), 50u);
}

TEST(MamQuery, FormFields) {
  MamQuery q =
      ok(form("<field var='start'><value>2026-11-28T12:00:00Z</value></field>"
              "<field var='end'><value>2026-11-28T13:00:00.5+01:00</value></field>"
              "<field var='with'><value>alice@example.com/phone</value></field>"
              "<field var='after-id'><value>a</value></field>"
              "<field var='before-id'><value>b</value></field>"
              "<field var='{urn:xmpp:fulltext:0}fulltext'><value>pizza</value></field>"));
  EXPECT_EQ(q.start_us, 1795867200000000);
  EXPECT_EQ(q.end_us, 1795867200500000);
  EXPECT_EQ(q.with_jid, "alice@example.com");
  EXPECT_FALSE(q.with_nick);
  EXPECT_EQ(q.after_id, "a");
  EXPECT_EQ(q.before_id, "b");
  EXPECT_EQ(q.fulltext, "pizza");
  EXPECT_EQ(q.referenced_ids(), (std::vector<std::string>{"a", "b"}));
}

TEST(MamQuery, WithAnOccupantJidOrANickFiltersByNick) {
  EXPECT_EQ(ok(form("<field var='with'><value>p1@rooms.example.com/Bob</value></field>")).with_nick,
            "Bob");
  EXPECT_EQ(ok(form("<field var='with'><value>Bob</value></field>")).with_nick, "Bob");
}

// Found by fuzz/mam_query (a parsed query, written back, parsed differently): 'with' was
// classified by where '@' and '/' fell and compared unprepared, so Alice@Example.COM matched
// none of alice@example.com's messages, and al/ce@example.com/phone filtered by a JID "al".
TEST(MamQuery, WithIsComparedPrepared) {
  auto with = [](std::string_view v) {
    return form("<field var='with'><value>" + std::string(v) + "</value></field>");
  };
  EXPECT_EQ(ok(with("Alice@Example.COM/phone")).with_jid, "alice@example.com");
  EXPECT_EQ(ok(with("P1@Rooms.Example.COM/Bob")).with_nick, "Bob");
  EXPECT_FALSE(ok(with("P1@Rooms.Example.COM/Bob")).with_jid);
  EXPECT_EQ(ok(with("p1@rooms.example.com")).with_jid, "p1@rooms.example.com");
  EXPECT_EQ(ok(with("\xef\xbc\xa2ob")).with_nick, "Bob");  // U+FF22: resourceprep's NFKC
  EXPECT_EQ(error(with("al/ce@example.com/phone")),
            "field 'with' is not a valid JID: 'al/ce@example.com/phone'");
  EXPECT_EQ(error(with("a@b@c")), "field 'with' is not a valid JID: 'a@b@c'");
}

// Found by fuzz/mam_query: the index is the statement's OFFSET, a bigint; a larger one made
// PostgreSQL refuse the query, answered internal-server-error instead of bad-request.
TEST(MamQuery, RsmIndexBeyondBigintIsRefused) {
  EXPECT_EQ(ok("<set xmlns='http://jabber.org/protocol/rsm'><index>9223372036854775807</index>"
               "</set>")
                .index,
            9223372036854775807u);
  EXPECT_EQ(error("<set xmlns='http://jabber.org/protocol/rsm'><index>9223372036854775808</index>"
                  "</set>"),
            "RSM <index/> is out of range: '9223372036854775808'");
}

TEST(MamQuery, Ids) {
  MamQuery q = ok(form("<field var='ids'><value>x</value><value>y</value></field>"));
  EXPECT_EQ(q.ids, (std::vector<std::string>{"x", "y"}));
  EXPECT_NE(error(form("<field var='ids'><value>x</value></field>"
                       "<field var='after-id'><value>a</value></field>")),
            "<no error>");
}

TEST(MamQuery, Rsm) {
  MamQuery q = ok("<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><before/></set>");
  EXPECT_TRUE(q.backward());
  EXPECT_EQ(q.rsm_before, "");
  EXPECT_TRUE(q.referenced_ids().empty());  // the last page references nothing
  EXPECT_EQ(page_size(q, 50, 250), 10u);
  q =
      ok("<set xmlns='http://jabber.org/protocol/rsm'><max>1000</max><after>z</after></set>"
         "<flip-page/>");
  EXPECT_EQ(page_size(q, 50, 250), 250u);
  EXPECT_EQ(q.rsm_after, "z");
  EXPECT_TRUE(q.flip_page);
  EXPECT_EQ(ok("<set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set>").max, 0u);
  EXPECT_EQ(ok("<set xmlns='http://jabber.org/protocol/rsm'><index>7</index></set>").index, 7u);
}

TEST(MamQuery, BadRequests) {
  EXPECT_EQ(error(form("<field var='start'><value>yesterday</value></field>")),
            "field 'start' is not an XEP-0082 date-time: 'yesterday'");
  EXPECT_EQ(error(form("<field var='colour'><value>red</value></field>")),
            "unknown field 'colour'");
  EXPECT_EQ(error("<set xmlns='http://jabber.org/protocol/rsm'><max>ten</max></set>"),
            "RSM <max/> is not a non-negative integer: 'ten'");
  EXPECT_EQ(error("<set xmlns='http://jabber.org/protocol/rsm'><max>-1</max></set>"),
            "RSM <max/> is not a non-negative integer: '-1'");
  EXPECT_EQ(error("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
                  "<value>urn:xmpp:mam:1</value></field></x>"),
            "FORM_TYPE must be urn:xmpp:mam:2");
  EXPECT_EQ(error(form("<field var='start'><value>2026-11-28T13:00:00Z</value></field>"
                       "<field var='end'><value>2026-11-28T12:00:00Z</value></field>")),
            "'start' is after 'end'");
  EXPECT_NE(error("<set xmlns='http://jabber.org/protocol/rsm'><after>a</after><before>b</before>"
                  "</set>"),
            "<no error>");
}

TEST(MamSql, EveryValueIsAParameter) {
  MamQuery q =
      ok(form("<field var='with'><value>Bob</value></field>"
              "<field var='{urn:xmpp:fulltext:0}fulltext'><value>x'; DROP</value></field>") +
         "<set xmlns='http://jabber.org/protocol/rsm'><before>s9</before></set>");
  Bounds b;
  b.rsm_before = 42;
  const Sql sql = page_sql(q, b, 7, 10, "id");
  EXPECT_EQ(sql.text,
            "SELECT id FROM archive WHERE room_id = $1::bigint AND nick = $2 AND "
            "to_tsvector('simple', coalesce(body, '')) @@ plainto_tsquery('simple', $3) AND "
            "id < $4::bigint ORDER BY id DESC LIMIT $5::bigint");
  EXPECT_EQ(sql.params, (std::vector<std::string>{"7", "Bob", "x'; DROP", "42", "11"}));
}

TEST(MamSql, ForwardWithIndexUsesOffset) {
  MamQuery q =
      ok("<set xmlns='http://jabber.org/protocol/rsm'><max>5</max><index>20</index></set>");
  const Sql sql = page_sql(q, {}, 7, 5, "id");
  EXPECT_EQ(sql.text,
            "SELECT id FROM archive WHERE room_id = $1::bigint ORDER BY id ASC LIMIT $2::bigint "
            "OFFSET $3::bigint");
  EXPECT_EQ(sql.params, (std::vector<std::string>{"7", "6", "20"}));
}

TEST(ArchiveSettings, DefaultsAndErrorsWithLine) {
  config::PluginSection s;
  auto r = read_settings(s);
  ASSERT_TRUE(std::holds_alternative<Settings>(r));
  EXPECT_EQ(std::get<Settings>(r).default_page, 50u);
  EXPECT_EQ(std::get<Settings>(r).max_page, 250u);
  s.settings["max_page"] = {std::int64_t{100}, 4};
  r = read_settings(s);
  ASSERT_TRUE(std::holds_alternative<Settings>(r));
  EXPECT_EQ(std::get<Settings>(r).max_page, 100u);
  s.settings["max_page"] = {std::string("many"), 4};
  EXPECT_EQ(std::get<std::string>(read_settings(s)),
            "line 4: key 'plugins.archive.max_page': expected an integer");
  s.settings.erase("max_page");
  s.settings["page"] = {std::int64_t{1}, 6};
  EXPECT_EQ(std::get<std::string>(read_settings(s)),
            "line 6: key 'plugins.archive.page': unknown key");
  s.settings.erase("page");
  s.settings["spool_dir"] = {std::string("/var/lib/salon/spool"), 8};
  EXPECT_EQ(std::get<std::string>(read_settings(s)),
            "line 8: key 'plugins.archive.spool_dir': moved to [database] spool_dir");
}

// deploy/salon.example.toml documents every archive key with a valid value.
TEST(ArchiveSettings, TheDocumentedExampleIsValid) {
  const config::Result r = config::load_file(SALON_EXAMPLE_CONFIG);
  ASSERT_TRUE(r.config) << r.error->str();
  const auto s = read_settings(r.config->plugins.at("archive"));
  ASSERT_TRUE(std::holds_alternative<Settings>(s)) << std::get<std::string>(s);
  const Settings& a = std::get<Settings>(s);
  EXPECT_EQ(a.max_page, 250u);
  EXPECT_EQ(r.config->database.spool_dir, "/var/lib/salon/spool");  // the journal's now
  EXPECT_EQ(a.purge_interval_seconds, 3600u);
}

}  // namespace
}  // namespace salon::archive
