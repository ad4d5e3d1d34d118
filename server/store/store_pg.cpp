// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/store_pg.hpp"

#include <pqxx/connection_base>
#include <pqxx/transaction>

#include <memory>
#include <utility>

#include "db/database.hpp"
#include "store/room_sql.hpp"

namespace salon::store {

namespace {

// Reads see one snapshot: a room and its affiliations can't come from two different commits.
using Snapshot = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

// Runs `read(tx)` on a reader thread inside a snapshot; `done(Result<T>)` on the loop. Reads
// are idempotent, so a broken connection is retried once on a fresh one.
template <typename Read, typename T = std::invoke_result_t<Read&, pqxx::transaction_base&>>
void snapshot_query(db::Database& db, Read read, std::function<void(db::Result<T>)> done) {
  db.query(
      [read = std::move(read)](pqxx::connection_base& conn) -> T {
        Snapshot tx(conn, "salon_store_read");
        T value = read(tx);
        tx.commit();
        return value;
      },
      std::move(done), db::QueryOptions{.idempotent = true});
}

// Queues a durable write whose outcome is `Out` (computed inside the transaction). The job may
// run more than once (a batch is re-run after a rollback); each run starts from a fresh Out.
template <typename Out>
void write_job(db::Database& db, std::function<Out(pqxx::dbtransaction&)> run,
               std::function<void(Out, StoreError)> done) {
  auto out = std::make_shared<Out>();
  db::WriteJob job;
  job.run = [run = std::move(run), out](pqxx::dbtransaction& tx) { *out = run(tx); };
  job.done = [out, done = std::move(done)](db::WriteOutcome o) {
    if (!o.ok())
      return done(Out{}, StoreError{o.error.empty() ? "write failed" : std::move(o.error)});
    done(std::move(*out), StoreError{});
  };
  db.write(std::move(job));
}

// Archive rows per transaction when a room is deleted: the retention purge's batch.
constexpr std::int64_t kArchiveBatch = 5000;

StoreError error_of(const std::string& message) {
  return StoreError{message.empty() ? "query failed" : message};
}

}  // namespace

void PgRoomStore::load_room(const std::string& local,
                            std::function<void(std::optional<RoomRecord>, StoreError)> done) {
  snapshot_query(
      db_, [local](pqxx::transaction_base& tx) { return sql::room_by_local(tx, local); },
      std::function<void(db::Result<std::optional<RoomRecord>>)>(
          [done = std::move(done)](db::Result<std::optional<RoomRecord>> r) {
            if (!r) return done(std::nullopt, error_of(r.error()));
            done(std::move(r).value(), StoreError{});
          }));
}

void PgRoomStore::upsert_project(
    const ProjectSpec& spec,
    std::function<void(std::optional<RoomRecord>, bool created, StoreError)> done) {
  struct Out {
    std::optional<RoomRecord> room;
    bool created = false;
  };
  write_job<Out>(
      db_,
      [spec](pqxx::dbtransaction& tx) {
        const auto u = sql::upsert_project(tx, spec);
        // Read back inside the same transaction: the answer is exactly what was committed.
        return Out{sql::room_by_id(tx, u.room_id), u.created};
      },
      [done = std::move(done)](Out out, StoreError err) {
        if (!err && !out.room) err.message = "the room vanished inside its own transaction";
        done(std::move(out.room), out.created, std::move(err));
      });
}

// A room's archive may hold millions of rows. Deleted with the room, they went inside the
// writer's transaction (the single writer thread: every room's archive batch queued behind it)
// under the archive's advisory lock held exclusively (schemas/004: every batch in flight
// waits). So the rows go first, kArchiveBatch at a time on a reader connection, each batch its
// own short transaction, as the retention purge deletes; the room's DELETE then only takes the
// rows archived meanwhile (above the count watermark, about a second's worth). A failure
// between two batches leaves the room with part of its archive and exact counts; deleting it
// again goes on where this stopped.
void PgRoomStore::delete_room(const std::string& local,
                              std::function<void(bool existed, StoreError)> done) {
  db_.query(
      [local](pqxx::connection_base& conn) {
        std::int64_t total = 0;
        for (;;) {
          pqxx::work tx(conn, "salon_store_archive_delete");
          const std::int64_t n = sql::delete_archive_batch(tx, local, kArchiveBatch);
          tx.commit();
          total += n;
          if (n < kArchiveBatch) return total;
        }
      },
      [db = &db_, local, done = std::move(done)](db::Result<std::int64_t> r) mutable {
        if (!r) return done(false, error_of(r.error()));
        write_job<bool>(
            *db, [local](pqxx::dbtransaction& tx) { return sql::delete_room(tx, local); },
            std::move(done));
      },
      db::QueryOptions{.idempotent = true});
}

void PgRoomStore::set_affiliation(std::int64_t room_id, const AffiliationRecord& a,
                                  std::function<void(StoreError)> done) {
  write_job<bool>(
      db_,
      [room_id, a](pqxx::dbtransaction& tx) {
        sql::set_affiliation(tx, room_id, a);
        return true;
      },
      [done = std::move(done)](bool, StoreError err) { done(std::move(err)); });
}

void PgRoomStore::save_room(const RoomRecord& room, std::function<void(StoreError)> done) {
  // Affiliations are not saved here: copy only the room's own fields into the job.
  RoomRecord fields = room;
  fields.affiliations.clear();
  write_job<bool>(
      db_,
      [fields = std::move(fields)](pqxx::dbtransaction& tx) {
        sql::save_room(tx, fields);
        return true;
      },
      [done = std::move(done)](bool, StoreError err) { done(std::move(err)); });
}

void PgRoomStore::save_occupants(std::int64_t room_id, std::vector<PersistedOccupant> occupants,
                                 std::function<void(StoreError)> done) {
  write_job<bool>(
      db_,
      [room_id, occupants = std::move(occupants)](pqxx::dbtransaction& tx) {
        sql::save_occupants(tx, room_id, occupants);
        return true;
      },
      [done = std::move(done)](bool, StoreError err) { done(std::move(err)); });
}

void PgRoomStore::load_occupied_rooms(
    std::function<void(std::vector<RestoredRoom>, StoreError)> done) {
  snapshot_query(
      db_, [](pqxx::transaction_base& tx) { return sql::occupied_rooms(tx); },
      std::function<void(db::Result<std::vector<RestoredRoom>>)>(
          [done = std::move(done)](db::Result<std::vector<RestoredRoom>> r) {
            if (!r) return done({}, error_of(r.error()));
            done(std::move(r).value(), StoreError{});
          }));
}

void PgRoomStore::rooms_of(
    const std::string& bare_jid,
    std::function<void(std::map<std::string, std::string>, StoreError)> done) {
  using Rooms = std::map<std::string, std::string>;
  snapshot_query(
      db_, [bare_jid](pqxx::transaction_base& tx) { return sql::rooms_of(tx, bare_jid); },
      std::function<void(db::Result<Rooms>)>([done = std::move(done)](db::Result<Rooms> r) {
        if (!r) return done({}, error_of(r.error()));
        done(std::move(r).value(), StoreError{});
      }));
}

}  // namespace salon::store
