-- SPDX-License-Identifier: GPL-3.0-or-later
-- 002: what the room store (server/store/) needs beyond 001_core.
-- disco#items on the service lists the rooms a user is affiliated with
-- (PgRoomStore::rooms_of: WHERE jid = $1): without this index that is a scan of every
-- affiliation of every project.
CREATE INDEX affiliations_jid ON affiliations (jid);
