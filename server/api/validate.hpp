// SPDX-License-Identifier: GPL-3.0-or-later
// The provisioning API's input rules, on plain structs: no JSON and no HTTP here, so every rule
// is unit-testable on its own. json_codec.cpp turns a request body into a ProjectInput (and
// reports type errors); validate_project() turns that into the store's ProjectSpec, or names
// the first offending field the way the problem+json answer does ("members[1].jid").
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "muc/store.hpp"

namespace salon::api {

// A 400 answer: which input member is wrong ("" for the body as a whole) and why.
struct FieldError {
  std::string field;
  std::string detail;
  friend bool operator==(const FieldError&, const FieldError&) = default;
};

// One member as sent. Absent (or JSON null) fields are nullopt; the JSON layer has already
// checked that present fields are strings.
struct MemberInput {
  std::optional<std::string> jid;
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> role;
};

struct ProjectInput {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::vector<MemberInput>> members;  // nullopt: "members" missing
};

// Limits of the API (documented in docs/openapi.yaml).
inline constexpr std::size_t kMaxProjectIdBytes = 64;
inline constexpr std::size_t kMaxProjectNameChars = 200;
inline constexpr std::size_t kMaxDescriptionChars = 4000;
inline constexpr std::size_t kMaxMembers = 1000;
inline constexpr std::size_t kMaxEmailBytes = 254;  // RFC 5321 path limit

// What the configuration decides: marketplace role -> affiliation, and the nick length limit.
struct Rules {
  std::map<std::string, muc::Affiliation, std::less<>> role_affiliations;
  std::size_t max_nick_chars = 64;
};

// Builds Rules from config values ("member" | "admin" | "owner"); a role mapped to anything
// else is left out (so it is an unknown role) and named in `rejected`.
struct RulesBuild {
  Rules rules;
  std::vector<std::string> rejected;
};
RulesBuild make_rules(const std::map<std::string, std::string>& role_affiliations,
                      std::size_t max_nick_chars);

// A project id is the room JID's localpart. Accepted: 1-64 bytes of [a-z0-9._-], starting
// with a letter or digit, and unchanged by nodeprep (so the room JID is exactly the id).
// Why so strict: ids appear in URLs, room JIDs that people read, and logs; this set needs no
// percent-encoding, no case folding, and cannot collide after normalisation.
std::optional<FieldError> validate_project_id(std::string_view id);

// The whole PUT body; on success the spec carries normalised bare JIDs, resourceprep'd nicks
// and the mapped affiliations, in input order.
std::variant<muc::ProjectSpec, FieldError> validate_project(std::string_view id,
                                                            const ProjectInput& input,
                                                            const Rules& rules);

}  // namespace salon::api
