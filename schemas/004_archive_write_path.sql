-- SPDX-License-Identifier: GPL-3.0-or-later
-- 004: the archive's write path keeps only the per-row work that is storage (bench/RESULTS.md,
-- "Archive write path"): the writer COPYs each batch (plugins/archive/store.cpp), stanza-ids
-- are time-ordered (UUIDv7: they append to the unique index instead of landing at random), and
-- three per-row costs of 003 go.

-- Full text is matched per room at query time (to_tsvector('simple', body) over the room's
-- rows, docs/ARCHIVE.md): a synchronously maintained GIN index cost ~45% of every insert. An
-- operator who wants indexed search in very large rooms can add the expression index the query
-- already uses (docs/ARCHIVE.md, "Full-text search").
ALTER TABLE archive DROP COLUMN body_tsv;  -- and the GIN index archive_body_tsv with it

-- The room reference: a foreign key runs a trigger and a lookup per archived row. The writer
-- checks each batch's rooms once instead, holding the archive's advisory lock (shared) for the
-- batch; deleting rooms takes it exclusively first, so a batch never lands for a room deleted
-- meanwhile, and the room's rows go with it (what ON DELETE CASCADE did).
ALTER TABLE archive DROP CONSTRAINT archive_room_id_fkey;

-- One index fewer per row: the primary key becomes (room_id, id), the index every page is read
-- by (003's archive_room_id); id stays unique by its sequence. Every statement on single rows
-- names the room.
ALTER TABLE archive DROP CONSTRAINT archive_pkey;
DROP INDEX archive_room_id;
ALTER TABLE archive ADD PRIMARY KEY (room_id, id);

-- Key of the advisory lock: 0x73616c6f6e01, "salon" in ASCII then 1. Also in store.cpp.
CREATE FUNCTION archive_rooms_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(126862268263937);
  RETURN NULL;
END $$;

CREATE FUNCTION archive_rooms_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM archive WHERE room_id IN (SELECT id FROM gone);
  RETURN NULL;
END $$;

CREATE TRIGGER archive_rooms_lock BEFORE DELETE ON rooms
  FOR EACH STATEMENT EXECUTE FUNCTION archive_rooms_lock();
CREATE TRIGGER archive_rooms_deleted AFTER DELETE ON rooms
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION archive_rooms_deleted();

