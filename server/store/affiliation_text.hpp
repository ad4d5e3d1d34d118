// SPDX-License-Identifier: GPL-3.0-or-later
// Affiliations as text, the XEP-0045 names: what the database column and the provisioning API's
// JSON hold. Header-only so the API library can use it without linking the store.
#pragma once

#include <optional>
#include <string_view>

#include "muc/store.hpp"

namespace salon::store {

constexpr std::string_view affiliation_text(muc::Affiliation a) {
  switch (a) {
    case muc::Affiliation::outcast: return "outcast";
    case muc::Affiliation::member: return "member";
    case muc::Affiliation::admin: return "admin";
    case muc::Affiliation::owner: return "owner";
    case muc::Affiliation::none: break;
  }
  return "none";
}

constexpr std::optional<muc::Affiliation> parse_affiliation(std::string_view s) {
  if (s == "none") return muc::Affiliation::none;
  if (s == "outcast") return muc::Affiliation::outcast;
  if (s == "member") return muc::Affiliation::member;
  if (s == "admin") return muc::Affiliation::admin;
  if (s == "owner") return muc::Affiliation::owner;
  return std::nullopt;
}

}  // namespace salon::store
