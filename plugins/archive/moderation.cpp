// SPDX-License-Identifier: GPL-3.0-or-later
// XEP-0425 message moderation (urn:xmpp:message-moderate:1): a room admin or owner retracts
// anyone's message. The archived original becomes a tombstone (committed first), then the room
// tells every occupant with a retraction notice from the room JID, which is archived too.
#include <pqxx/pqxx>

#include "archive.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "db/database.hpp"
#include "journal/journal.hpp"

namespace salon::archive {
namespace {

constexpr std::string_view kModerate = "urn:xmpp:message-moderate:1";

// `by` names the moderator as the occupants know it (its occupant JID and XEP-0421 id, so
// clients can say who retracted); an admin acting from outside the room stays unnamed.
Element notice(const std::string& room_jid, const std::string& id, const std::string& target,
               const std::string& reason, const std::optional<plugin::OccupantView>& by) {
  Element m("message");
  m.set_attr("type", "groupchat");
  m.set_attr("id", id);
  Element& r = m.add_child("retract", ns::retract);
  r.set_attr("id", target);
  Element& moderated = r.add_child("moderated", kModerate);
  if (by) {
    moderated.set_attr("by", by->occupant_jid.str());
    moderated.add_child("occupant-id", ns::occupant_id).set_attr("id", by->occupant_id);
  }
  if (!reason.empty()) r.add_child("reason").set_text(reason);
  m.add_child("body").set_text("A moderator retracted a message" +
                               (reason.empty() ? std::string() : ": " + reason));
  m.add_child("stanza-id", ns::sid).set_attr("id", id).set_attr("by", room_jid);
  return m;
}

}  // namespace

void ArchivePlugin::moderate(const plugin::RoomIq& iq, IqResponder reply) {
  using plugin::Affiliation;
  if (iq.from_affiliation != Affiliation::admin && iq.from_affiliation != Affiliation::owner)
    return reply.error(errors::forbidden("only moderators may retract others' messages"));
  const std::string target(iq.payload.attr("id"));
  if (iq.payload.name() != "moderate" || target.empty() ||
      !iq.payload.child("retract", ns::retract))
    return reply.error(errors::bad_request(
        "expected <moderate id='stanza-id'><retract xmlns='urn:xmpp:message-retract:1'/>"));
  const std::string reason(iq.payload.child_text("reason"));
  const std::int64_t room_id = iq.room.id;
  const Jid room = iq.room.jid;
  const std::string moderator = iq.from.bare_str();
  const std::optional<plugin::OccupantView> by = iq.from_occupant;
  auto found = std::make_shared<bool>(false);  // set by the job (last run wins)
  auto responder = std::make_shared<IqResponder>(std::move(reply));
  db::WriteJob job;
  job.run = [room_id, target, found](pqxx::dbtransaction& tx) {
    *found = !tx.exec_params(
                    "UPDATE archive SET tombstone = true, body = NULL, stanza = '', "
                    "retracted_at = now() WHERE room_id = $1 AND stanza_id = $2 "
                    "AND kind <> 'retraction' RETURNING 1",
                    room_id, target)
                  .empty();
  };
  job.done = [this, life = std::weak_ptr<int>(alive_), found, responder, room, room_id, target,
              reason, moderator, by](db::WriteOutcome o) {
    if (!o.ok()) {
      log::warn("archive", "moderation in {} failed: {}", room.bare_str(), o.error);
      StanzaError e = errors::internal_server_error("the archive is unavailable");
      e.type = ErrorType::wait;
      return responder->error(e);
    }
    if (!*found) return responder->error(errors::item_not_found("no such message in this room"));
    if (life.expired()) return responder->result();
    Row row;
    row.room_id = room_id;
    row.stanza_id = uuid7();
    row.ts_us = std::chrono::duration_cast<std::chrono::microseconds>(
                    plugin::Clock::now().time_since_epoch())
                    .count();
    row.kind = Kind::retraction;
    row.sender_jid = moderator;
    row.replaces = target;
    Element m = notice(room.bare_str(), row.stanza_id, target, reason, by);
    m.set_attr("from", room.bare_str());
    row.stanza = m.xml();
    // Like any message: the occupants see the notice once it is durable.
    journal::Commit commit;
    commit.add(*table_, std::move(row));
    host_->journal().submit(
        std::move(commit), [this, life, room, m = std::move(m), responder](bool durable) {
          if (!durable) {
            StanzaError e = errors::internal_server_error("the retraction notice was not archived");
            e.type = ErrorType::wait;
            return responder->error(e);
          }
          if (!life.expired()) host_->broadcast_from_room(room, m);
          responder->result();
        });
  };
  host_->database().write(std::move(job));
}

}  // namespace salon::archive
