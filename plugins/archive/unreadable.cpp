// SPDX-License-Identifier: GPL-3.0-or-later
#include "unreadable.hpp"

#include "classify.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

namespace salon::archive {
namespace {

// Rows remembered as reported. Past it the set starts again: a row may then be logged and
// counted a second time, which is better than memory that grows with a damaged archive.
constexpr std::size_t kMaxSeen = 10000;

}  // namespace

Element stand_in(const std::string& room_jid, const std::string& nick, Element marker,
                 const std::string& stanza_id, const std::string& occupant_id) {
  Element m("message", ns::client);
  m.set_attr("type", "groupchat");
  m.set_attr("from", room_jid + "/" + nick);
  m.add_child(std::move(marker));
  m.add_child("stanza-id", ns::sid).set_attr("id", stanza_id).set_attr("by", room_jid);
  m.add_child("occupant-id", ns::occupant_id).set_attr("id", occupant_id);
  return m;
}

Element unreadable_placeholder(const std::string& room_jid, const std::string& nick,
                               const std::string& stanza_id, const std::string& occupant_id) {
  Element body("body");
  body.set_text(std::string(kUnreadableBody));
  return stand_in(room_jid, nick, std::move(body), stanza_id, occupant_id);
}

void Unreadable::report(std::int64_t room_id, const std::string& stanza_id, std::size_t bytes) {
  {
    std::lock_guard lock(mutex_);
    if (seen_.size() >= kMaxSeen) seen_.clear();
    if (!seen_.insert(stanza_id).second) return;
  }
  if (counter_) counter_->inc();
  log::error("archive",
             "archived stanza {} of room {} ({} bytes) does not parse: served as a placeholder",
             stanza_id, room_id, bytes);
}

}  // namespace salon::archive
