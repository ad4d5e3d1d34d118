// SPDX-License-Identifier: GPL-3.0-or-later
#include "api/json_codec.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace salon::api {

namespace {

using nlohmann::json;

std::string_view type_name(const json& j) {
  return j.type_name();
}

// A project body nests 3 levels. nlohmann's parser is iterative but other operations on a json
// value recurse, so a 1 MB body of '[' must be refused before it becomes a value.
constexpr int kMaxDepth = 16;

bool too_deep(std::string_view body) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// Reads an optional string member; a non-string, non-null value is an error naming `field`.
std::optional<FieldError> read_string(const json& obj, const char* key, const std::string& field,
                                      std::optional<std::string>& out) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string())
    return FieldError{field, fmt::format("{} must be a string, not {}", field, type_name(*it))};
  out = it->get<std::string>();
  return std::nullopt;
}

std::variant<MemberInput, FieldError> read_member(const json& j, std::size_t i) {
  const auto where = fmt::format("members[{}]", i);
  if (!j.is_object())
    return FieldError{where, fmt::format("{} must be an object, not {}", where, type_name(j))};
  MemberInput m;
  for (auto [key, slot] : {std::pair{"jid", &m.jid}, std::pair{"name", &m.name},
                           std::pair{"email", &m.email}, std::pair{"role", &m.role}})
    if (auto e = read_string(j, key, where + "." + key, *slot)) return *e;
  return m;
}

std::variant<ProjectInput, FieldError> read_project(const json& j) {
  if (!j.is_object())
    return FieldError{"", fmt::format("the body must be a JSON object, not {}", type_name(j))};
  ProjectInput p;
  if (auto e = read_string(j, "name", "name", p.name)) return *e;
  if (auto e = read_string(j, "description", "description", p.description)) return *e;
  const auto it = j.find("members");
  if (it == j.end() || it->is_null()) return p;
  if (!it->is_array())
    return FieldError{"members", fmt::format("members must be an array, not {}", type_name(*it))};
  if (it->size() > kMaxMembers)
    return FieldError{"members", fmt::format("more than {} members", kMaxMembers)};
  p.members.emplace();
  p.members->reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    auto m = read_member((*it)[i], i);
    if (auto* e = std::get_if<FieldError>(&m)) return *e;
    p.members->push_back(std::get<MemberInput>(std::move(m)));
  }
  return p;
}

json member_json(const muc::AffiliationRecord& a) {
  json m = {{"jid", a.jid},
            {"name", a.nick},
            {"role", a.role},
            {"affiliation", salon::to_string(a.affiliation)}};
  if (!a.email.empty()) m["email"] = a.email;
  return m;
}

json xmpp_affiliation_json(const muc::AffiliationRecord& a) {
  json m = {{"jid", a.jid}, {"affiliation", salon::to_string(a.affiliation)}};
  if (!a.nick.empty()) m["nick"] = a.nick;
  if (!a.reason.empty()) m["reason"] = a.reason;
  return m;
}

}  // namespace

std::variant<ProjectInput, FieldError> parse_project_body(std::string_view body) {
  if (too_deep(body))
    return FieldError{"", fmt::format("the body nests deeper than {} levels", kMaxDepth)};
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ...":
    // keep the human part.
    std::string_view what = e.what();
    if (const auto p = what.find("] "); p != std::string_view::npos) what.remove_prefix(p + 2);
    return FieldError{"", fmt::format("the body is not valid JSON: {}", what)};
  }
  return read_project(j);
}

std::string project_json(const muc::RoomRecord& room, std::string_view domain) {
  json members = json::array();
  json others = json::array();
  for (const auto& a : room.affiliations) {
    // A provisioned affiliation has its marketplace role; one set over XMPP has none.
    if (!a.role.empty())
      members.push_back(member_json(a));
    else
      others.push_back(xmpp_affiliation_json(a));
  }
  const json j = {{"id", room.local},
                  {"room_jid", fmt::format("{}@{}", room.local, domain)},
                  {"name", room.name},
                  {"description", room.description},
                  {"subject", room.subject},
                  {"members", std::move(members)},
                  {"xmpp_affiliations", std::move(others)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace salon::api
