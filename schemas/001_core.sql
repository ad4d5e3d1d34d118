-- SPDX-License-Identifier: GPL-3.0-or-later
-- 001: the core MUC state (XEP-0045 rooms, affiliations, occupants).
-- Applied by salond at start-up in one transaction with its schema_version row
-- (server/db/migrations.cpp). Never edit an applied migration: add NNN_next.sql instead.

-- One persistent room per marketplace project; the room JID is <jid_local>@<component domain>.
CREATE TABLE rooms (
  id           bigserial PRIMARY KEY,
  jid_local    text UNIQUE NOT NULL,          -- the project id
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  subject      text NOT NULL DEFAULT '',
  subject_nick text,                          -- who set the subject (occupant nick)
  config       jsonb NOT NULL DEFAULT '{}',   -- muc#roomconfig options beyond the columns
  created_at   timestamptz DEFAULT now(),
  updated_at   timestamptz DEFAULT now()
);

-- Provisioned members (and outcasts) of a room, by bare JID.
CREATE TABLE affiliations (
  room_id     bigint REFERENCES rooms ON DELETE CASCADE,
  jid         text NOT NULL,                  -- bare JID
  affiliation text NOT NULL
              CHECK (affiliation IN ('owner', 'admin', 'member', 'outcast')),
  nick        text,                           -- reserved nick = the member's display name
  email       text,
  role        text,                           -- marketplace role (client, designer, staff, ...)
  reason      text,
  PRIMARY KEY (room_id, jid)
);
-- A reserved nick belongs to one member of the room, whatever its case.
CREATE UNIQUE INDEX affiliations_room_nick ON affiliations (room_id, lower(nick))
  WHERE nick IS NOT NULL;

-- Occupants, persisted write-behind so that a restart (SIGTERM or SIGKILL) is invisible to
-- clients: one row per real full JID (a multi-session nick has several rows).
CREATE TABLE occupants (
  room_id   bigint REFERENCES rooms ON DELETE CASCADE,
  nick      text NOT NULL,
  real_jid  text NOT NULL,                    -- full JID
  role      text NOT NULL,                    -- XEP-0045 role (moderator, participant, visitor)
  presence  text NOT NULL,                    -- the occupant's last presence, as XML
  joined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, real_jid)
);
