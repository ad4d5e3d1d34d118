// SPDX-License-Identifier: GPL-3.0-or-later
// An archive row in the journal's spool: its twelve fields as netstrings.
#include "row_codec.hpp"

#include "journal/netstring.hpp"

namespace salon::archive {

using journal::get_netstring;
using journal::put_netstring;

std::optional<Row> decode_row(std::string_view payload) {
  std::string f[12];
  std::size_t pos = 0;
  for (auto& s : f)
    if (!get_netstring(payload, pos, s)) return std::nullopt;
  if (pos != payload.size()) return std::nullopt;
  Row r;
  try {
    r.room_id = std::stoll(f[0]);
    r.ts_us = std::stoll(f[2]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  r.stanza_id = f[1];
  r.kind = f[3] == "subject"      ? Kind::subject
           : f[3] == "correction" ? Kind::correction
           : f[3] == "retraction" ? Kind::retraction
                                  : Kind::message;
  r.nick = f[4];
  r.sender_jid = f[5];
  r.occupant_id = f[6];
  r.msg_id = f[7];
  r.has_body = f[8] == "1";
  r.body = f[9];
  r.stanza = f[10];
  r.replaces = f[11];
  return r;
}

std::string encode_row(const Row& r) {
  std::string p;
  put_netstring(p, std::to_string(r.room_id));
  put_netstring(p, r.stanza_id);
  put_netstring(p, std::to_string(r.ts_us));
  put_netstring(p, to_string(r.kind));
  put_netstring(p, r.nick);
  put_netstring(p, r.sender_jid);
  put_netstring(p, r.occupant_id);
  put_netstring(p, r.msg_id);
  put_netstring(p, r.has_body ? "1" : "0");
  put_netstring(p, r.body);
  put_netstring(p, r.stanza);
  put_netstring(p, r.replaces);
  return p;
}

}  // namespace salon::archive
