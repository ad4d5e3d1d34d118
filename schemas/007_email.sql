-- SPDX-License-Identifier: GPL-3.0-or-later
-- 007: the email plugin (plugins/email, docs/EMAIL.md): who has missed messages waiting for a
-- digest, what was sent, and each member's preferences.

-- One row per (room, member) while the member has a missed message there that no digest has
-- told them of yet. Written by the event loop through the journal, in the same transaction as
-- the message (pending.cpp); claimed and removed by the sender thread (sender.cpp).
CREATE TABLE email_pending (
  room_id         bigint NOT NULL REFERENCES rooms ON DELETE CASCADE,
  jid             text NOT NULL,          -- the member's bare JID
  first_stanza_id text,                   -- the first missed message, when known
  since           timestamptz NOT NULL,   -- messages received from then on are news
  due_at          timestamptz NOT NULL,   -- since + delay, or later when throttled
  claimed_by      bigint,                 -- the email_outbox row of a digest being sent
  cancelled       boolean NOT NULL DEFAULT false,  -- read/joined while claimed: drop it
  PRIMARY KEY (room_id, jid)
);
CREATE INDEX email_pending_due ON email_pending (due_at) WHERE claimed_by IS NULL;
CREATE INDEX email_pending_claimed ON email_pending (claimed_by) WHERE claimed_by IS NOT NULL;
-- A member's rows across rooms: the claim takes them together (one digest), the API lists them.
CREATE INDEX email_pending_jid ON email_pending (jid);

-- A member's choice; no row = the defaults (digest, the configured delay).
CREATE TABLE email_prefs (
  jid           text PRIMARY KEY,
  mode          text NOT NULL DEFAULT 'digest' CHECK (mode IN ('digest', 'off')),
  delay_seconds integer CHECK (delay_seconds BETWEEN 0 AND 604800),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Rooms a member muted (no email for them).
CREATE TABLE email_mutes (
  room_id bigint NOT NULL REFERENCES rooms ON DELETE CASCADE,
  jid     text NOT NULL,
  PRIMARY KEY (room_id, jid)
);

-- The per-room throttle after an email (settings: throttle, throttle_reset).
CREATE TABLE email_throttle (
  room_id         bigint NOT NULL REFERENCES rooms ON DELETE CASCADE,
  jid             text NOT NULL,
  last_sent_at    timestamptz NOT NULL,
  streak          integer NOT NULL,       -- emails for this room since the last quiet period
  next_allowed_at timestamptz NOT NULL,   -- the next one waits until then
  PRIMARY KEY (room_id, jid)
);

-- Every digest, from its claim to its outcome. The message is stored whole, so a retry sends
-- the same bytes under the same Message-ID.
--   claimed   ready to send; not handed to SMTP past its last byte (a restart sends it)
--   sending   the last byte went to the SMTP server: if salond dies now, nobody knows whether
--             the server took it; after a restart it becomes in_doubt and is not sent again
--   sent      250 after DATA
--   retry     a temporary failure (connect error, 4xx): sent again at next_attempt_at
--   failed    a permanent failure (5xx), or temporary ones for longer than give_up_after
--   in_doubt  see sending
--   cancelled superseded before it was sent (a member read or joined meanwhile)
CREATE TABLE email_outbox (
  id              bigserial PRIMARY KEY,
  jid             text NOT NULL,
  address         text NOT NULL,
  message_id      text NOT NULL UNIQUE,
  subject         text NOT NULL,
  raw             text NOT NULL,
  state           text NOT NULL CHECK (state IN
                    ('claimed', 'sending', 'sent', 'retry', 'failed', 'in_doubt', 'cancelled')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
CREATE INDEX email_outbox_todo ON email_outbox (id) WHERE state IN ('claimed', 'retry');
CREATE INDEX email_outbox_jid ON email_outbox (jid, id);

-- Which rooms a digest covers, up to which message (the loop re-arms a member who missed
-- more meanwhile: email.cpp, handled()).
CREATE TABLE email_outbox_rooms (
  outbox_id bigint NOT NULL REFERENCES email_outbox ON DELETE CASCADE,
  room_id   bigint NOT NULL,
  through   timestamptz NOT NULL,
  messages  integer NOT NULL,
  PRIMARY KEY (outbox_id, room_id)
);

-- Addresses that bounced permanently (5xx): no more digests to them until the provisioned
-- address changes. Shown by the API.
CREATE TABLE email_bounces (
  jid        text PRIMARY KEY,
  address    text NOT NULL,
  reply      text NOT NULL,
  bounced_at timestamptz NOT NULL DEFAULT now()
);
