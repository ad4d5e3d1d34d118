// SPDX-License-Identifier: GPL-3.0-or-later
#include "api/validate.hpp"

#include <fmt/format.h>

#include <unordered_map>

#include "core/jid.hpp"
#include "core/text.hpp"

namespace salon::api {

namespace {

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// C0 controls and DEL; `allowed` lists the ones a multi-line text may keep.
bool has_control(std::string_view s, std::string_view allowed = {}) {
  for (unsigned char c : s)
    if ((c < 0x20 || c == 0x7f) && allowed.find(static_cast<char>(c)) == std::string_view::npos)
      return true;
  return false;
}

std::string member_field(std::size_t i, std::string_view what) {
  return fmt::format("members[{}].{}", i, what);
}

std::optional<FieldError> check_project_name(const std::optional<std::string>& name) {
  if (!name || is_blank(*name)) return FieldError{"name", "name is required and must not be empty"};
  if (utf8_length(*name) > kMaxProjectNameChars)
    return FieldError{"name",
                      fmt::format("name is longer than {} characters", kMaxProjectNameChars)};
  if (has_control(*name)) return FieldError{"name", "name must not contain control characters"};
  return std::nullopt;
}

std::optional<FieldError> check_description(const std::optional<std::string>& d) {
  if (!d) return std::nullopt;
  if (utf8_length(*d) > kMaxDescriptionChars)
    return FieldError{"description", fmt::format("description is longer than {} characters",
                                                 kMaxDescriptionChars)};
  if (has_control(*d, "\t\n\r"))
    return FieldError{"description", "description must not contain control characters"};
  return std::nullopt;
}

// Jid::parse (gloox's nameprep) lets through domains such as "b@c" or "local host". A user's
// server is a DNS name (ASCII letters, digits, '-', '.', or IDN labels) or an IP literal, so
// anything else in the ASCII range is refused here.
bool plausible_domain(std::string_view d) {
  if (d.size() > 2 && d.front() == '[' && d.back() == ']')
    return d.substr(1, d.size() - 2).find_first_not_of("0123456789abcdefABCDEF:.") ==
           std::string_view::npos;
  for (unsigned char c : d)
    if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.'))
      return false;
  return true;
}

// A member's JID: a bare user JID (local@domain), normalised.
std::variant<std::string, FieldError> check_jid(std::size_t i,
                                                const std::optional<std::string>& s) {
  const auto field = member_field(i, "jid");
  if (!s || s->empty()) return FieldError{field, "jid is required"};
  const auto jid = Jid::parse(*s);
  if (!jid || !plausible_domain(jid->domain()))
    return FieldError{field, fmt::format("'{}' is not a valid JID", *s)};
  if (!jid->is_bare())
    return FieldError{field, fmt::format("'{}' must be a bare JID (no resource)", *s)};
  if (jid->local().empty())
    return FieldError{field, fmt::format("'{}' must be a user JID (user@domain)", *s)};
  return jid->bare_str();
}

// A member's display name, which becomes the reserved nick: a valid resourcepart.
std::variant<std::string, FieldError> check_nick(std::size_t i, const std::optional<std::string>& s,
                                                 std::size_t max_chars) {
  const auto field = member_field(i, "name");
  if (!s || is_blank(*s)) return FieldError{field, "name is required and must not be empty"};
  if (utf8_length(*s) > max_chars)
    return FieldError{field, fmt::format("name is longer than {} characters", max_chars)};
  auto nick = Jid::resourceprep(*s);
  if (!nick)
    return FieldError{field, "name is not usable as a room nickname (resourceprep failed)"};
  if (utf8_length(*nick) > max_chars)
    return FieldError{field, fmt::format("name is longer than {} characters", max_chars)};
  return *std::move(nick);
}

std::optional<FieldError> check_email(std::size_t i, std::string_view e) {
  const auto at = e.rfind('@');
  if (e.size() > kMaxEmailBytes)
    return FieldError{member_field(i, "email"),
                      fmt::format("email is longer than {} bytes", kMaxEmailBytes)};
  if (at == std::string_view::npos || at == 0 || at + 1 == e.size() || has_control(e) ||
      e.find(' ') != std::string_view::npos)
    return FieldError{member_field(i, "email"), fmt::format("'{}' is not an email address", e)};
  return std::nullopt;
}

std::variant<muc::Affiliation, FieldError> check_role(std::size_t i,
                                                      const std::optional<std::string>& role,
                                                      const Rules& rules) {
  const auto field = member_field(i, "role");
  if (!role || role->empty()) return FieldError{field, "role is required"};
  const auto it = rules.role_affiliations.find(*role);
  if (it == rules.role_affiliations.end()) {
    std::string known;
    for (const auto& [r, a] : rules.role_affiliations)
      known += (known.empty() ? "" : ", ") + r;
    return FieldError{field, fmt::format("unknown role '{}' (known: {})", *role, known)};
  }
  return it->second;
}

std::variant<muc::AffiliationRecord, FieldError> check_member(std::size_t i, const MemberInput& m,
                                                              const Rules& rules) {
  muc::AffiliationRecord rec;
  auto jid = check_jid(i, m.jid);
  if (auto* e = std::get_if<FieldError>(&jid)) return *e;
  rec.jid = std::get<std::string>(std::move(jid));
  auto nick = check_nick(i, m.name, rules.max_nick_chars);
  if (auto* e = std::get_if<FieldError>(&nick)) return *e;
  rec.nick = std::get<std::string>(std::move(nick));
  if (m.email && !m.email->empty()) {
    if (auto e = check_email(i, *m.email)) return *e;
    rec.email = *m.email;
  }
  auto aff = check_role(i, m.role, rules);
  if (auto* e = std::get_if<FieldError>(&aff)) return *e;
  rec.affiliation = std::get<muc::Affiliation>(aff);
  rec.role = *m.role;
  return rec;
}

}  // namespace

RulesBuild make_rules(const std::map<std::string, std::string>& role_affiliations,
                      std::size_t max_nick_chars) {
  RulesBuild out;
  out.rules.max_nick_chars = max_nick_chars;
  for (const auto& [role, text] : role_affiliations) {
    const auto a = salon::parse_affiliation(text);
    if (a == muc::Affiliation::member || a == muc::Affiliation::admin ||
        a == muc::Affiliation::owner)
      out.rules.role_affiliations.emplace(role, *a);
    else
      out.rejected.push_back(role);
  }
  return out;
}

std::optional<FieldError> validate_project_id(std::string_view id) {
  if (id.empty()) return FieldError{"id", "the project id must not be empty"};
  if (id.size() > kMaxProjectIdBytes)
    return FieldError{"id",
                      fmt::format("the project id is longer than {} bytes", kMaxProjectIdBytes)};
  for (char c : id)
    if (!id_char(c))
      return FieldError{"id", "the project id may only contain a-z, 0-9, '.', '_' and '-'"};
  if (id.front() == '.' || id.front() == '_' || id.front() == '-')
    return FieldError{"id", "the project id must start with a letter or a digit"};
  const auto prepped = Jid::nodeprep(id);
  if (!prepped || *prepped != id)
    return FieldError{"id", "the project id is not a valid JID localpart"};
  return std::nullopt;
}

std::variant<muc::ProjectSpec, FieldError> validate_project(std::string_view id,
                                                            const ProjectInput& input,
                                                            const Rules& rules) {
  if (auto e = validate_project_id(id)) return *e;
  if (auto e = check_project_name(input.name)) return *e;
  if (auto e = check_description(input.description)) return *e;
  if (!input.members) return FieldError{"members", "members is required (it may be empty)"};
  if (input.members->size() > kMaxMembers)
    return FieldError{"members", fmt::format("more than {} members", kMaxMembers)};

  muc::ProjectSpec spec;
  spec.local = std::string(id);
  spec.name = *input.name;
  spec.description = input.description.value_or("");
  std::unordered_map<std::string, std::size_t> seen_jid;
  std::unordered_map<std::u32string, std::size_t> seen_nick;
  for (std::size_t i = 0; i < input.members->size(); ++i) {
    auto m = check_member(i, (*input.members)[i], rules);
    if (auto* e = std::get_if<FieldError>(&m)) return *e;
    auto& rec = std::get<muc::AffiliationRecord>(m);
    if (auto [it, fresh] = seen_jid.emplace(rec.jid, i); !fresh)
      return FieldError{member_field(i, "jid"),
                        fmt::format("'{}' is already members[{}].jid", rec.jid, it->second)};
    if (auto [it, fresh] = seen_nick.emplace(nick_key(rec.nick), i); !fresh)
      return FieldError{member_field(i, "name"),
                        fmt::format("'{}' is already the name of members[{}] (ignoring case): "
                                    "names are the members' reserved nicknames and must differ",
                                    rec.nick, it->second)};
    spec.members.push_back(std::move(rec));
  }
  return spec;
}

}  // namespace salon::api
