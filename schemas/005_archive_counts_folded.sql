-- SPDX-License-Identifier: GPL-3.0-or-later
-- 005: archive_counts leaves the write path. Upserting every room of every batch cost ~8 µs of
-- PostgreSQL per archived message under load (a batch of 500 messages touches ~400 rooms), a
-- fifth of the archive's throughput. Now a room's row counts its archive rows with
-- id <= upto; a MAM count adds the rows after upto (an index range scan of the recent rows),
-- and the archive plugin folds those into the row every few seconds (store.cpp,
-- fold_counts). Purges subtract what they delete at or below upto. Both take the advisory
-- lock 126862268263938 so that a fold never counts rows a purge is deleting.

ALTER TABLE archive_counts ADD COLUMN upto bigint NOT NULL DEFAULT 0;

-- Until now the counts were exact for every row: the watermark is each room's newest row.
UPDATE archive_counts c
   SET upto = coalesce((SELECT max(a.id) FROM archive a WHERE a.room_id = c.room_id), 0);
