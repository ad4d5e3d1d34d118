// SPDX-License-Identifier: GPL-3.0-or-later
// An in-memory RoomStore for unit tests and the component-level harness. Every completion is
// posted to the io_context (never called inline), as the PostgreSQL store does, so tests see
// the same asynchrony. Failures can be injected per operation.
#pragma once

#include <boost/asio/io_context.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "muc/store.hpp"

namespace salon::muc {

class MemoryRoomStore final : public RoomStore {
public:
  explicit MemoryRoomStore(boost::asio::io_context& io) : io_(io) {}

  void load_room(const std::string& local,
                 std::function<void(std::optional<RoomRecord>, StoreError)> done) override;
  void upsert_project(
      const ProjectSpec& spec,
      std::function<void(std::optional<RoomRecord>, bool, StoreError)> done) override;
  void delete_room(const std::string& local, std::function<void(bool, StoreError)> done) override;
  void set_affiliation(std::int64_t room_id, const AffiliationRecord& a,
                       std::function<void(StoreError)> done) override;
  void save_room(const RoomRecord& room, std::function<void(StoreError)> done) override;
  void save_occupants(std::int64_t room_id, std::vector<PersistedOccupant> occupants,
                      std::function<void(StoreError)> done) override;
  void load_occupied_rooms(
      std::function<void(std::vector<RestoredRoom>, StoreError)> done) override;
  void rooms_of(const std::string& bare_jid,
                std::function<void(std::map<std::string, std::string>, StoreError)> done) override;

  // Test helpers (synchronous).
  RoomRecord& add_room(const std::string& local, const std::string& name = {});
  void put_affiliation(const std::string& local, AffiliationRecord a);
  [[nodiscard]] const RoomRecord* room(const std::string& local) const;
  [[nodiscard]] std::vector<PersistedOccupant> occupants_of(const std::string& local) const;
  [[nodiscard]] std::size_t save_occupants_calls() const { return save_occupants_calls_; }
  [[nodiscard]] std::size_t load_room_calls() const { return load_room_calls_; }
  // The next call of the named operation ("load_room", "set_affiliation", "save_room",
  // "delete_room", "save_occupants", ...) fails with `message`.
  void fail_next(const std::string& operation, std::string message);

private:
  StoreError take_failure(const std::string& operation);
  RoomRecord* find(std::int64_t id);

  boost::asio::io_context& io_;
  std::map<std::string, RoomRecord> rooms_;
  std::map<std::int64_t, std::vector<PersistedOccupant>> occupants_;
  std::map<std::string, std::string> failures_;
  std::int64_t next_id_ = 1;
  std::size_t save_occupants_calls_ = 0;
  std::size_t load_room_calls_ = 0;
};

}  // namespace salon::muc
