// SPDX-License-Identifier: GPL-3.0-or-later
// core/stringprep.hpp through gloox's JID setters, which apply the profiles. The only file of
// salon_jidprep: it depends on gloox and nothing of salond's.
#include "core/stringprep.hpp"

#include <gloox/jid.h>

namespace salon::stringprep {

std::optional<std::string> nodeprep(std::string_view local) {
  gloox::JID j;
  if (!j.setUsername(std::string(local))) return std::nullopt;
  return j.username();
}

std::optional<std::string> nameprep(std::string_view domain) {
  gloox::JID j;
  if (!j.setServer(std::string(domain))) return std::nullopt;
  return j.server();
}

std::optional<std::string> resourceprep(std::string_view resource) {
  gloox::JID j;
  if (!j.setResource(std::string(resource))) return std::nullopt;
  return j.resource();
}

}  // namespace salon::stringprep
