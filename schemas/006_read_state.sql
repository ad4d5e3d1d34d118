-- SPDX-License-Identifier: GPL-3.0-or-later
-- 006: how far each member has read each room (plugins/markers, the "read-state" service):
-- the last message they marked displayed (XEP-0333) or sent. Unread = the room's archived
-- messages after read_at, from others. Written coalesced through the journal; only forward.
CREATE TABLE read_state (
  room_id    bigint NOT NULL REFERENCES rooms ON DELETE CASCADE,
  jid        text NOT NULL,              -- the member's bare JID
  stanza_id  text NOT NULL,              -- the last message read (XEP-0359 id by the room)
  read_at    timestamptz NOT NULL,       -- when the room received it (= archive.ts)
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, jid)
);
-- A user's positions across their rooms (unread counts per user).
CREATE INDEX read_state_jid ON read_state (jid);
