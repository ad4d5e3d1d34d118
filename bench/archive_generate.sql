-- SPDX-License-Identifier: GPL-3.0-or-later
-- A synthetic archive for the MAM query benchmark (bench/README.md, "archive"): :rooms rooms
-- (projects bench-archive-N) with :per_room messages each, generated inside PostgreSQL (as
-- fast as COPY, no client round trips). Messages are interleaved across rooms in time order,
-- as a live service would write them.
--   psql "$SALON_PG_CONNINFO" -v rooms=1000 -v per_room=10000 -f bench/archive_generate.sql
\set ON_ERROR_STOP on
\timing on
INSERT INTO rooms (jid_local, name)
SELECT 'bench-archive-' || r, 'Archive benchmark ' || r FROM generate_series(1, :rooms) r
ON CONFLICT (jid_local) DO NOTHING;

-- Room n's id is ids[n]: an array subscript keeps generate_series' order (a join would
-- reorder the rows and an ORDER BY would sort 10 million of them).
SELECT array_agg(id ORDER BY id) AS ids FROM rooms WHERE jid_local LIKE 'bench-archive-%' \gset room_

-- One statement: ids in time order; g = global sequence, room = g % rooms. Stanza-ids are
-- UUIDv7 as salond mints them (server/core/uuid.hpp): the message's milliseconds, then random.
INSERT INTO archive (room_id, stanza_id, ts, kind, nick, sender_jid, occupant_id, msg_id, body,
                     stanza)
SELECT (:'room_ids'::bigint[])[1 + g % :rooms], m.sid, m.ts, 'message',
       'User' || (g % 3),
       'user' || (g % 3) || '@example.com',
       'occ' || (g % 3),
       'm' || g,
       'message number ' || g || ' about the logo colour and the pineapple font',
       '<message from="bench-archive-' || (1 + g % :rooms) || '@rooms.example.com/User' || (g % 3)
         || '" type="groupchat" id="m' || g || '"><body>message number ' || g
         || ' about the logo colour and the pineapple font</body><stanza-id xmlns="urn:xmpp:sid:0" id="'
         || m.sid || '" by="bench-archive-' || (1 + g % :rooms)
         || '@rooms.example.com"/><occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ' || (g % 3)
         || '"/></message>'
FROM generate_series(1, :rooms * :per_room) g
CROSS JOIN LATERAL (SELECT now() - interval '1 second' * (:rooms * :per_room - g) / 100 AS ts) t
CROSS JOIN LATERAL (
  SELECT t.ts,
         overlay(overlay(md5(g::text || 'salon')
                         PLACING lpad(to_hex((extract(epoch FROM t.ts) * 1000)::bigint), 12, '0')
                         FROM 1 FOR 12)
                 PLACING '7' FROM 13 FOR 1)::uuid::text AS sid) m;

ANALYZE archive;
SELECT count(*) AS messages, pg_size_pretty(pg_total_relation_size('archive')) AS size FROM archive;

INSERT INTO archive_counts (room_id, messages, upto)
SELECT room_id, count(*), max(id) FROM archive GROUP BY room_id
ON CONFLICT (room_id) DO UPDATE SET messages = excluded.messages, upto = excluded.upto;
