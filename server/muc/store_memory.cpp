// SPDX-License-Identifier: GPL-3.0-or-later
#include "muc/store_memory.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace salon::muc {

StoreError MemoryRoomStore::take_failure(const std::string& operation) {
  auto it = failures_.find(operation);
  if (it == failures_.end()) return {};
  StoreError e{std::move(it->second)};
  failures_.erase(it);
  return e;
}

void MemoryRoomStore::fail_next(const std::string& operation, std::string message) {
  failures_[operation] = std::move(message);
}

RoomRecord* MemoryRoomStore::find(std::int64_t id) {
  for (auto& [local, r] : rooms_)
    if (r.id == id) return &r;
  return nullptr;
}

RoomRecord& MemoryRoomStore::add_room(const std::string& local, const std::string& name) {
  RoomRecord& r = rooms_[local];
  if (r.id == 0) r.id = next_id_++;
  r.local = local;
  r.name = name.empty() ? local : name;
  return r;
}

void MemoryRoomStore::put_affiliation(const std::string& local, AffiliationRecord a) {
  RoomRecord& r = rooms_.at(local);
  std::erase_if(r.affiliations, [&](const AffiliationRecord& x) { return x.jid == a.jid; });
  if (a.affiliation != Affiliation::none) r.affiliations.push_back(std::move(a));
}

const RoomRecord* MemoryRoomStore::room(const std::string& local) const {
  auto it = rooms_.find(local);
  return it == rooms_.end() ? nullptr : &it->second;
}

std::vector<PersistedOccupant> MemoryRoomStore::occupants_of(const std::string& local) const {
  auto r = rooms_.find(local);
  if (r == rooms_.end()) return {};
  auto it = occupants_.find(r->second.id);
  return it == occupants_.end() ? std::vector<PersistedOccupant>{} : it->second;
}

void MemoryRoomStore::load_room(const std::string& local,
                                std::function<void(std::optional<RoomRecord>, StoreError)> done) {
  ++load_room_calls_;
  StoreError err = take_failure("load_room");
  std::optional<RoomRecord> rec;
  if (!err)
    if (auto it = rooms_.find(local); it != rooms_.end()) rec = it->second;
  boost::asio::post(io_, [done = std::move(done), rec = std::move(rec), err]() mutable {
    done(std::move(rec), err);
  });
}

void MemoryRoomStore::upsert_project(
    const ProjectSpec& spec,
    std::function<void(std::optional<RoomRecord>, bool, StoreError)> done) {
  StoreError err = take_failure("upsert_project");
  std::optional<RoomRecord> rec;
  bool created = false;
  if (!err) {
    created = rooms_.find(spec.local) == rooms_.end();
    RoomRecord& r = add_room(spec.local, spec.name);
    r.description = spec.description;
    // Provisioned members replace the old set; outcasts set over XMPP stay.
    std::erase_if(r.affiliations,
                  [](const AffiliationRecord& a) { return a.affiliation != Affiliation::outcast; });
    for (const auto& m : spec.members) {
      std::erase_if(r.affiliations, [&](const AffiliationRecord& a) { return a.jid == m.jid; });
      r.affiliations.push_back(m);
    }
    rec = r;
  }
  boost::asio::post(io_, [done = std::move(done), rec = std::move(rec), created, err]() mutable {
    done(std::move(rec), created, err);
  });
}

void MemoryRoomStore::delete_room(const std::string& local,
                                  std::function<void(bool, StoreError)> done) {
  StoreError err = take_failure("delete_room");
  bool existed = false;
  if (!err) {
    auto it = rooms_.find(local);
    existed = it != rooms_.end();
    if (existed) {
      occupants_.erase(it->second.id);
      rooms_.erase(it);
    }
  }
  boost::asio::post(io_, [done = std::move(done), existed, err] { done(existed, err); });
}

void MemoryRoomStore::set_affiliation(std::int64_t room_id, const AffiliationRecord& a,
                                      std::function<void(StoreError)> done) {
  StoreError err = take_failure("set_affiliation");
  if (!err) {
    if (RoomRecord* r = find(room_id)) {
      std::erase_if(r->affiliations, [&](const AffiliationRecord& x) { return x.jid == a.jid; });
      if (a.affiliation != Affiliation::none) r->affiliations.push_back(a);
    } else {
      err.message = "no such room";
    }
  }
  boost::asio::post(io_, [done = std::move(done), err] { done(err); });
}

void MemoryRoomStore::save_room(const RoomRecord& room, std::function<void(StoreError)> done) {
  StoreError err = take_failure("save_room");
  if (!err) {
    if (RoomRecord* r = find(room.id)) {
      r->name = room.name;
      r->description = room.description;
      r->subject = room.subject;
      r->subject_nick = room.subject_nick;
      r->settings = room.settings;
    } else {
      err.message = "no such room";
    }
  }
  boost::asio::post(io_, [done = std::move(done), err] { done(err); });
}

void MemoryRoomStore::save_occupants(std::int64_t room_id, std::vector<PersistedOccupant> occupants,
                                     std::function<void(StoreError)> done) {
  ++save_occupants_calls_;
  StoreError err = take_failure("save_occupants");
  if (!err) {
    if (occupants.empty())
      occupants_.erase(room_id);
    else
      occupants_[room_id] = std::move(occupants);
  }
  boost::asio::post(io_, [done = std::move(done), err] { done(err); });
}

void MemoryRoomStore::load_occupied_rooms(
    std::function<void(std::vector<RestoredRoom>, StoreError)> done) {
  StoreError err = take_failure("load_occupied_rooms");
  std::vector<RestoredRoom> out;
  if (!err) {
    for (const auto& [id, occ] : occupants_) {
      if (RoomRecord* r = find(id)) out.push_back(RestoredRoom{*r, occ});
    }
  }
  boost::asio::post(io_, [done = std::move(done), out = std::move(out), err]() mutable {
    done(std::move(out), err);
  });
}

void MemoryRoomStore::rooms_of(
    const std::string& bare_jid,
    std::function<void(std::map<std::string, std::string>, StoreError)> done) {
  StoreError err = take_failure("rooms_of");
  std::map<std::string, std::string> out;
  if (!err) {
    for (const auto& [local, r] : rooms_) {
      const bool affiliated = std::any_of(
          r.affiliations.begin(), r.affiliations.end(), [&](const AffiliationRecord& a) {
            return a.jid == bare_jid &&
                   (a.affiliation == Affiliation::member || a.affiliation == Affiliation::admin ||
                    a.affiliation == Affiliation::owner);
          });
      if (affiliated) out.emplace(local, r.name);
    }
  }
  boost::asio::post(io_, [done = std::move(done), out = std::move(out), err]() mutable {
    done(std::move(out), err);
  });
}

}  // namespace salon::muc
