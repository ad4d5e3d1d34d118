// SPDX-License-Identifier: GPL-3.0-or-later
// JSON in and out of the provisioning API. nlohmann-json is heavy to compile, so it is used in
// json_codec.cpp only; everything else sees plain structs.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "api/validate.hpp"
#include "muc/store.hpp"

namespace salon::api {

// Parses a PUT body: a JSON object with optional string "name"/"description" and an array
// "members" of objects with string fields. Unknown members are ignored (so a GET answer can be
// sent back as is); JSON null counts as absent. Errors name the field: "" for the body itself
// (invalid JSON, not an object), "members", "members[2]", "members[2].role", ...
std::variant<ProjectInput, FieldError> parse_project_body(std::string_view body);

// The project as the API shows it (docs/openapi.yaml, schema Project): the provisioned members
// (with their role) in "members", affiliations set over XMPP in "xmpp_affiliations".
// `domain` is the component domain, for "room_jid".
std::string project_json(const muc::RoomRecord& room, std::string_view domain);

}  // namespace salon::api
