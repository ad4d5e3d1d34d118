-- SPDX-License-Identifier: GPL-3.0-or-later
-- 003: the message archive (plugins/archive, docs/ARCHIVE.md): one row per archived groupchat
-- stanza, served as XEP-0313 MAM and as history on join.

CREATE TABLE archive (
  id           bigserial PRIMARY KEY,        -- monotonic: archive order = reflection order
  room_id      bigint NOT NULL REFERENCES rooms ON DELETE CASCADE,
  stanza_id    text NOT NULL UNIQUE,         -- XEP-0359 id by the room: MAM id, RSM key, and
                                             -- the idempotency key of the writer and spool
  ts           timestamptz NOT NULL,         -- when the room received it (microseconds)
  kind         text NOT NULL
               CHECK (kind IN ('message', 'subject', 'correction', 'retraction')),
  nick         text NOT NULL,
  sender_jid   text NOT NULL,                -- the sender's real bare JID
  occupant_id  text NOT NULL,                -- XEP-0421
  msg_id       text,                         -- origin-id or the sender's id attribute
                                             -- (XEP-0308 corrections refer to it)
  body         text,                         -- for search; NULL without a body or once retracted
  stanza       text NOT NULL,                -- the message exactly as reflected (without 'to')
  replaces     text,                         -- correction: corrected id; retraction: stanza-id
  replaces_archive_id bigint,                -- the row a correction/retraction applies to
  tombstone    boolean NOT NULL DEFAULT false,  -- retracted (XEP-0424/0425): body wiped
  retracted_at timestamptz,
  body_tsv     tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(body, ''))) STORED
);

-- Last page, RSM pages (after/before an id) and index: range scans on (room_id, id).
CREATE INDEX archive_room_id ON archive (room_id, id);
-- Time-bounded pages (start/end, history seconds/since).
CREATE INDEX archive_room_ts ON archive (room_id, ts);
-- {urn:xmpp:fulltext:0}fulltext.
CREATE INDEX archive_body_tsv ON archive USING gin (body_tsv);

-- Retention per room, set through the API (PUT /api/v1/projects/{id}/retention). No row: the
-- global [plugins.archive] retention_days applies; a row with days NULL: kept forever.
CREATE TABLE archive_retention (
  room_id bigint PRIMARY KEY REFERENCES rooms ON DELETE CASCADE,
  days    integer CHECK (days IS NULL OR days > 0)
);

-- Messages per room, kept by the writer and every delete in the same transaction: RSM <count/>
-- of an unfiltered query (Converse.js's last page) without counting the room's rows.
CREATE TABLE archive_counts (
  room_id  bigint PRIMARY KEY REFERENCES rooms ON DELETE CASCADE,
  messages bigint NOT NULL
);
