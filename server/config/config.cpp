// SPDX-License-Identifier: GPL-3.0-or-later
// The one translation unit that includes toml++: it parses the file and hands a plain tree to
// the schema checks (validate.cpp), which compile without it.
#include "config/config.hpp"
#include "config/tree.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace salon::config {

namespace {

using detail::Member;
using detail::Node;

int line_of(const toml::source_region& r) {
  return static_cast<int>(r.begin.line);
}

std::string type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

Node convert(const toml::node& n) {
  Node out;
  out.line = line_of(n.source());
  out.type_name = type_name(n.type());
  if (const auto* t = n.as_table()) {
    out.kind = Node::Kind::table;
    for (auto&& [key, value] : *t)
      out.members.push_back(Member{std::string(key.str()), line_of(key.source()), convert(value)});
  } else if (const auto* a = n.as_array()) {
    out.kind = Node::Kind::array;
    for (const toml::node& item : *a)
      out.items.push_back(convert(item));
  } else if (const auto* s = n.as_string()) {
    out.kind = Node::Kind::string;
    out.string = s->get();
  } else if (const auto* i = n.as_integer()) {
    out.kind = Node::Kind::integer;
    out.integer = i->get();
  } else if (const auto* f = n.as_floating_point()) {
    out.kind = Node::Kind::floating;
    out.floating = f->get();
  } else if (const auto* b = n.as_boolean()) {
    out.kind = Node::Kind::boolean;
    out.boolean = b->get();
  } else {
    out.kind = Node::Kind::other;  // dates and times: no salond key takes them
  }
  return out;
}

std::string_view line_text(std::string_view text, int line) {
  for (int i = 1; i < line; ++i) {
    std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return {};
    text.remove_prefix(nl + 1);
  }
  return text.substr(0, text.find('\n'));
}

// Does this line assign an inline secret (`secret = ...`, `component.secret = ...`)?
bool assigns_secret(std::string_view line) {
  std::size_t eq = line.find('=');
  if (eq == std::string_view::npos) return false;
  std::string_view key = line.substr(0, eq);
  auto junk = [](char c) { return c == ' ' || c == '\t' || c == '"' || c == '\''; };
  while (!key.empty() && junk(key.front()))
    key.remove_prefix(1);
  while (!key.empty() && junk(key.back()))
    key.remove_suffix(1);
  if (std::size_t dot = key.rfind('.'); dot != std::string_view::npos) key.remove_prefix(dot + 1);
  while (!key.empty() && junk(key.front()))
    key.remove_prefix(1);
  constexpr std::array<std::string_view, 3> secrets{"secret", "api_token", "conninfo"};
  return std::find(secrets.begin(), secrets.end(), key) != secrets.end();
}

// toml++ quotes what it saw ("expected digit, saw 'z'"): on a line holding a secret, keep only
// the kind of error so that no part of the secret reaches a message.
std::string syntax_message(std::string_view description, std::string_view line) {
  if (!assigns_secret(line)) return std::string(description);
  std::string_view what = description.substr(0, description.find(':'));
  return fmt::format("{}: invalid value (details hidden: this line holds a secret)", what);
}

Result parse(std::string_view text, const std::string& source_name,
             const std::filesystem::path& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(source_name));
  } catch (const toml::parse_error& e) {
    int line = line_of(e.source());
    Error err{{}, line, syntax_message(e.description(), line_text(text, line)), source_name};
    return {std::nullopt, std::move(err)};
  }
  Result r = detail::build(convert(root), source_name, base_dir);
  if (r.config) r.config->path = source_name;
  return r;
}

}  // namespace

std::string Error::str() const {
  std::string out = file;
  if (line > 0) out += fmt::format("{}{}", out.empty() ? "line " : ":", line);
  if (!out.empty()) out += ": ";
  if (!key.empty()) out += fmt::format("key '{}': ", key);
  out += message;
  return out;
}

Result load_file(const std::string& path) {
  auto unreadable = [&](const std::string& why) {
    return Result{std::nullopt, Error{{}, 0, "cannot read: " + why, path}};
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return unreadable("is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return unreadable(std::error_code(errno, std::generic_category()).message());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return unreadable("I/O error");
  // Relative secret_file paths are relative to the config file, not to salond's working dir.
  return parse(text.str(), path, std::filesystem::path(path).parent_path());
}

Result load_string(const std::string& toml, const std::string& source_name) {
  return parse(toml, source_name, {});
}

std::vector<std::string> restart_required(const Config& running, const Config& reloaded) {
  std::vector<std::string> keys;
  auto check = [&](bool changed, const char* key) {
    if (changed) keys.emplace_back(key);
  };
  const auto& a = running;
  const auto& b = reloaded;
  check(a.component.domain != b.component.domain, "component.domain");
  check(a.component.server_host != b.component.server_host, "component.server_host");
  check(a.component.server_port != b.component.server_port, "component.server_port");
  check(a.component.secret != b.component.secret, "component.secret");
  check(a.database.conninfo != b.database.conninfo, "database.conninfo");
  check(a.database.spool_dir != b.database.spool_dir, "database.spool_dir");
  check(a.http.listen_address != b.http.listen_address || a.http.listen_port != b.http.listen_port,
        "http.listen");
  return keys;
}

}  // namespace salon::config
