// SPDX-License-Identifier: GPL-3.0-or-later
// The schema of salond's config: one reader per section, range and cross-key checks. Works on
// the plain tree of tree.hpp, so it compiles without toml++. deploy/salon.example.toml
// documents every key read here; keep them in step.
#include "config/tree.hpp"
#include "core/log.hpp"
#include "core/xml_parse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <map>

namespace salon::config::detail {

namespace {

bool domain_char(unsigned char c) {
  // ASCII letters, digits, '-', and any non-ASCII byte (IDNs in UTF-8).
  return std::isalnum(c) || c == '-' || c >= 0x80;
}

// A domain as the XMPP server routes it to the component: dot-separated DNS labels.
std::optional<std::string> check_domain(std::string_view d) {
  if (d.empty()) return "must not be empty";
  if (d.find_first_of("@/") != std::string_view::npos)
    return "must be a bare domain without '@' or '/' (e.g. rooms.example.com)";
  if (d.size() > 253) return "is longer than 253 characters";
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = d.find('.', start);
    std::string_view label = d.substr(start, dot == std::string_view::npos ? d.npos : dot - start);
    if (label.empty()) return "has an empty label (leading, trailing or double dot)";
    if (label.size() > 63) return "has a label longer than 63 characters";
    if (!std::all_of(label.begin(), label.end(), [](char c) { return domain_char(c); }))
      return "may contain only letters, digits, '-' and '.'";
    if (label.front() == '-' || label.back() == '-')
      return "has a label starting or ending with '-'";
    if (dot == std::string_view::npos) return std::nullopt;
    start = dot + 1;
  }
}

// "host:port", "[v6]:port".
std::optional<std::string> parse_listen(std::string_view text, std::string& host,
                                        std::uint16_t& port) {
  const auto usage = "expected \"host:port\" (e.g. \"127.0.0.1:8480\" or \"[::1]:8480\")";
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return usage;
  std::string_view h = text.substr(0, colon);
  std::string_view p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string_view::npos) {
    return "an IPv6 address must be in brackets, e.g. \"[::1]:8480\"";
  }
  if (h.empty() || h.find_first_of(" []/@") != std::string_view::npos) return usage;
  if (p.empty() || p.size() > 5 ||
      !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return fmt::format("{}: the port must be a number", usage);
  int n = std::stoi(std::string(p));
  if (n < 1 || n > 65535) return fmt::format("port must be between 1 and 65535, got {}", n);
  host = h;
  port = static_cast<std::uint16_t>(n);
  return std::nullopt;
}

int line_of(Section& s, std::string_view key) {
  const Member* m = s.find(key);
  return m ? m->line : 0;
}

// `later` must be greater than (or, with `or_equal`, at least) `earlier`. The error names
// `later` (the bound that is checked) unless only `earlier` is set in the file.
void check_order(Section& s, std::string_view earlier, std::string_view later, bool or_equal,
                 std::int64_t a, std::int64_t b) {
  if (or_equal ? b >= a : b > a) return;
  int le = line_of(s, earlier);
  int ll = line_of(s, later);
  bool on_later = ll > 0 || le == 0;
  int line = on_later ? ll : le;
  s.error(on_later ? later : earlier, line ? line : s.line(),
          fmt::format("{} ({}) must be {} {} ({})", later, b,
                      or_equal ? "at least" : "greater than", earlier, a));
}

void read_component(const Node* t, Context& ctx, Component& c) {
  Section s(t, "component", ctx);
  if (s.string("domain", c.domain)) {
    if (auto why = check_domain(c.domain)) s.error("domain", line_of(s, "domain"), *why);
  } else if (!s.find("domain")) {
    s.missing("domain", "is required (the domain the XMPP server routes to salond)");
  }
  if (s.string("server_host", c.server_host) && c.server_host.empty())
    s.error("server_host", line_of(s, "server_host"), "must not be empty");
  s.port("server_port", c.server_port);
  s.secret("secret", true, {}, c.secret);
  bool ki = s.positive_ms("keepalive_interval_ms", c.keepalive_interval);
  bool kt = s.positive_ms("keepalive_timeout_ms", c.keepalive_timeout);
  bool ri = s.positive_ms("reconnect_initial_ms", c.reconnect_initial);
  bool rm = s.positive_ms("reconnect_max_ms", c.reconnect_max);
  // Only compare values that were valid (or defaults): one error per mistake.
  if ((ki || !s.find("keepalive_interval_ms")) && (kt || !s.find("keepalive_timeout_ms")))
    check_order(s, "keepalive_interval_ms", "keepalive_timeout_ms", false,
                c.keepalive_interval.count(), c.keepalive_timeout.count());
  if ((ri || !s.find("reconnect_initial_ms")) && (rm || !s.find("reconnect_max_ms")))
    check_order(s, "reconnect_initial_ms", "reconnect_max_ms", true, c.reconnect_initial.count(),
                c.reconnect_max.count());
  s.positive_size("max_stanza_bytes", c.max_stanza_bytes);
  if (s.positive_size("max_stanza_depth", c.max_stanza_depth) &&
      c.max_stanza_depth > kMaxParseDepth)
    s.error("max_stanza_depth", line_of(s, "max_stanza_depth"),
            fmt::format("must be at most {} (archived stanzas are parsed again up to that depth)",
                        kMaxParseDepth));
  s.positive_size("max_stanza_attributes", c.max_stanza_attributes);
  s.positive_size("max_send_queue_bytes", c.max_send_queue_bytes);
  s.finish();
}

void read_database(const Node* t, Context& ctx, Database& d) {
  Section s(t, "database", ctx);
  // conninfo may carry a password: it is handled like a secret (never in messages).
  s.secret("conninfo", true, {.env = true, .file = false}, d.conninfo);
  s.positive_ms("health_interval_ms", d.health_interval);
  s.positive_ms("statement_timeout_ms", d.statement_timeout);
  s.positive_size("max_queued_queries", d.max_queued_queries);
  if (s.string("spool_dir", d.spool_dir) && (d.spool_dir.empty() || d.spool_dir[0] != '/'))
    s.error("spool_dir", line_of(s, "spool_dir"), "must be an absolute path");
  s.finish();
}

void read_http(const Node* t, Context& ctx, Http& h) {
  Section s(t, "http", ctx);
  std::string listen;
  if (s.string("listen", listen)) {
    if (auto why = parse_listen(listen, h.listen_address, h.listen_port))
      s.error("listen", line_of(s, "listen"), *why);
  }
  s.secret("api_token", false, {}, h.api_token);
  s.finish();
}

void read_log(const Node* t, Context& ctx, Log& l) {
  Section s(t, "log", ctx);
  std::string level;
  if (s.string("level", level)) {
    if (log::parse_level(level))
      l.level = level;
    else
      s.error(
          "level", line_of(s, "level"),
          fmt::format("unknown level '{}' (expected trace, debug, info, warn or error)", level));
  }
  std::string format;
  if (s.string("format", format)) {
    if (format == "text")
      l.format = LogFormat::text;
    else if (format == "json")
      l.format = LogFormat::json;
    else
      s.error("format", line_of(s, "format"),
              fmt::format("unknown format '{}' (expected text or json)", format));
  }
  s.finish();
}

void read_role_affiliations(const Node* t, Context& ctx, std::map<std::string, std::string>& out) {
  if (!t) return;
  // A present table is the whole mapping (so a role can be removed), not a patch on the default.
  out.clear();
  Section s(t, "muc.role_affiliations", ctx);
  constexpr std::array<std::string_view, 4> affiliations{"member", "admin", "owner", "none"};
  for (const Member& m : t->members) {
    std::string value;
    if (!s.string(m.key, value)) continue;
    if (std::find(affiliations.begin(), affiliations.end(), value) == affiliations.end())
      s.error(
          m.key, m.line,
          fmt::format("unknown affiliation '{}' (expected member, admin, owner or none)", value));
    else
      out[m.key] = value;
  }
}

void read_muc(const Node* t, Context& ctx, Muc& m) {
  Section s(t, "muc", ctx);
  s.boolean("members_can_change_subject", m.members_can_change_subject);
  s.boolean("allow_private_messages", m.allow_private_messages);
  s.positive_size("max_stanza_bytes", m.max_stanza_bytes);
  s.positive_size("max_body_chars", m.max_body_chars);
  s.positive_size("max_occupants", m.max_occupants);
  s.positive_size("max_nick_chars", m.max_nick_chars);
  s.positive_float("messages_per_second", m.messages_per_second);
  s.positive_float("message_burst", m.message_burst);
  s.positive_seconds("idle_unload_seconds", m.idle_unload);
  s.positive_size("max_presence_bytes", m.max_presence_bytes);
  s.positive_float("presences_per_second", m.presences_per_second);
  s.positive_float("presence_burst", m.presence_burst);
  s.positive_size("max_forwarded_iqs_per_occupant", m.max_forwarded_iqs_per_occupant);
  s.positive_size("max_forwarded_iqs_per_room", m.max_forwarded_iqs_per_room);
  s.positive_size("jid_cache_bytes", m.jid_cache_bytes);
  s.positive_ms("missing_room_cache_ms", m.missing_room_cache);
  s.positive_size("missing_room_cache_entries", m.missing_room_cache_entries);
  s.positive_size("max_queued_while_loading", m.max_queued_while_loading);
  read_role_affiliations(s.table("role_affiliations"), ctx, m.role_affiliations);
  s.finish();
}

// A plugin's own keys are kept as they are (the plugin validates them), as long as they are of
// a kind the Value variant can hold.
std::optional<Value> plugin_value(const Node& n, std::string& why) {
  switch (n.kind) {
    case Node::Kind::boolean: return Value(n.boolean);
    case Node::Kind::integer: return Value(n.integer);
    case Node::Kind::floating: return Value(n.floating);
    case Node::Kind::string: return Value(n.string);
    case Node::Kind::array: {
      std::vector<std::string> v;
      for (const Node& item : n.items) {
        if (item.kind != Node::Kind::string) {
          why = fmt::format("expected array of strings, got array containing {}", item.type_name);
          return std::nullopt;
        }
        v.push_back(item.string);
      }
      return Value(std::move(v));
    }
    default: break;
  }
  why = fmt::format(
      "unsupported value type {} (plugin settings are boolean, integer, float, "
      "string or array of strings)",
      n.type_name);
  return std::nullopt;
}

void read_plugin(const Member& pm, Context& ctx, PluginSection& p) {
  Section s(&pm.node, "plugins." + pm.key, ctx);
  p.line = pm.node.line;
  p.base_dir = ctx.base_dir;
  s.boolean("enabled", p.enabled);
  for (const Member& m : pm.node.members) {
    if (m.key == "enabled") continue;
    std::string why;
    if (auto v = plugin_value(m.node, why))
      p.settings[m.key] = Setting{std::move(*v), m.line};
    else
      s.error(m.key, m.line, why);
  }
}

void read_plugins(const Node* t, Context& ctx, std::map<std::string, PluginSection>& out) {
  if (!t) return;
  Section s(t, "plugins", ctx);
  for (const Member& m : t->members) {
    if (m.node.kind != Node::Kind::table) {
      s.error(m.key, m.line,
              fmt::format("expected table [plugins.{}], got {}", m.key, m.node.type_name));
      continue;
    }
    bool name_ok = !m.key.empty() && std::all_of(m.key.begin(), m.key.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    if (!name_ok) {
      s.error(m.key, m.line, "a plugin name may contain only letters, digits, '_' and '-'");
      continue;
    }
    read_plugin(m, ctx, out[m.key]);
  }
}

}  // namespace

Result build(const Node& root, const std::string& source_name,
             const std::filesystem::path& base_dir) {
  Context ctx{{}, base_dir};
  Config cfg;
  Section top(&root, "", ctx);
  read_component(top.table("component"), ctx, cfg.component);
  read_database(top.table("database"), ctx, cfg.database);
  read_http(top.table("http"), ctx, cfg.http);
  read_log(top.table("log"), ctx, cfg.log);
  read_muc(top.table("muc"), ctx, cfg.muc);
  read_plugins(top.table("plugins"), ctx, cfg.plugins);
  top.finish();
  if (!ctx.errors.empty()) {
    Error e = ctx.errors.first();
    e.file = source_name;
    return {std::nullopt, std::move(e)};
  }
  return {std::move(cfg), std::nullopt};
}

}  // namespace salon::config::detail
