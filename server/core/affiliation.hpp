// SPDX-License-Identifier: GPL-3.0-or-later
// XEP-0045 affiliations and roles and their names: the wire, the database column and the
// provisioning API's JSON all use these. Header-only and in the core, so the store, the API and
// the MUC service use them without the plugin interface (plugin::Affiliation is an alias).
#pragma once

#include <optional>
#include <string_view>

namespace salon {

enum class Affiliation { none, outcast, member, admin, owner };
enum class Role { none, visitor, participant, moderator };

constexpr std::string_view to_string(Affiliation a) {
  switch (a) {
    case Affiliation::none: return "none";
    case Affiliation::outcast: return "outcast";
    case Affiliation::member: return "member";
    case Affiliation::admin: return "admin";
    case Affiliation::owner: return "owner";
  }
  return "none";
}

constexpr std::string_view to_string(Role r) {
  switch (r) {
    case Role::none: return "none";
    case Role::visitor: return "visitor";
    case Role::participant: return "participant";
    case Role::moderator: return "moderator";
  }
  return "none";
}

constexpr std::optional<Affiliation> parse_affiliation(std::string_view s) {
  for (auto a : {Affiliation::none, Affiliation::outcast, Affiliation::member, Affiliation::admin,
                 Affiliation::owner})
    if (to_string(a) == s) return a;
  return std::nullopt;
}

constexpr std::optional<Role> parse_role(std::string_view s) {
  for (auto r : {Role::none, Role::visitor, Role::participant, Role::moderator})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

}  // namespace salon
