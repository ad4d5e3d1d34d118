// SPDX-License-Identifier: GPL-3.0-or-later
#include "settings.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace salon::email {
namespace {

using config::Setting;

struct Reader {
  const config::PluginSection& section;
  std::string error;  // the first one

  bool fail(std::string_view key, int line, std::string_view what) {
    if (error.empty()) error = fmt::format("line {}: key 'plugins.email.{}': {}", line, key, what);
    return false;
  }
  const Setting* get(std::string_view key) const {
    auto it = section.settings.find(std::string(key));
    return it == section.settings.end() ? nullptr : &it->second;
  }
  bool string(std::string_view key, const Setting& s, std::string& out) {
    const auto* v = std::get_if<std::string>(&s.value);
    if (!v) return fail(key, s.line, "expected a string");
    out = *v;
    return true;
  }
  bool integer(std::string_view key, const Setting& s, std::int64_t lo, std::int64_t hi,
               std::int64_t& out) {
    const auto* v = std::get_if<std::int64_t>(&s.value);
    if (!v) return fail(key, s.line, "expected an integer");
    if (*v < lo || *v > hi)
      return fail(key, s.line, fmt::format("must be between {} and {}", lo, hi));
    out = *v;
    return true;
  }
  // `name`, `name_env` or `name_file`: at most one of them (exactly one when required).
  bool secret(std::string_view name, bool required, std::string& out) {
    const std::string env_key = std::string(name) + "_env";
    const std::string file_key = std::string(name) + "_file";
    const Setting* plain = get(name);
    const Setting* env = get(env_key);
    const Setting* file = get(file_key);
    const int n = (plain != nullptr) + (env != nullptr) + (file != nullptr);
    if (n > 1) {
      const Setting* later = file ? file : env;
      return fail(file ? file_key : env_key, later->line,
                  fmt::format("give only one of {0}, {0}_env and {0}_file", name));
    }
    if (n == 0) {
      if (required)
        return fail(name, section.line, fmt::format("missing: set {0}, {0}_env or {0}_file", name));
      return true;
    }
    std::string v;
    if (plain) return string(name, *plain, out);
    if (env) {
      if (!string(env_key, *env, v)) return false;
      // NOLINTNEXTLINE(concurrency-mt-unsafe): salond never modifies its environment.
      const char* value = v.empty() ? nullptr : std::getenv(v.c_str());
      if (!value || !*value)
        return fail(env_key, env->line, fmt::format("environment variable '{}' is not set", v));
      out = value;
      return true;
    }
    if (!string(file_key, *file, v)) return false;
    std::filesystem::path path(v);
    if (path.is_relative()) path = section.base_dir / path;
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(file_key, file->line, fmt::format("cannot read '{}'", path.string()));
    std::ostringstream content;
    content << in.rdbuf();
    out = content.str();
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
      out.pop_back();
    if (out.empty()) return fail(file_key, file->line, fmt::format("'{}' is empty", path.string()));
    return true;
  }
};

bool header_safe(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

// A plausible addr-spec for an envelope and a From header: local@domain, printable ASCII, no
// spaces, angle brackets, quotes or commas (a header injection or a second recipient).
bool plain_address(std::string_view a) {
  const auto at = a.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= a.size() || a.size() > 254) return false;
  if (a.find('@', at + 1) != std::string_view::npos) return false;
  for (unsigned char c : a)
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' ||
        c == '\\' || c == '(' || c == ')')
      return false;
  return true;
}

}  // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t n = 0;
  const char unit = text.back();
  const auto digits = text.substr(0, text.size() - 1);
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || p != digits.data() + digits.size() || n < 0 || n > 10'000'000)
    return std::nullopt;
  switch (unit) {
    case 's': return std::chrono::seconds(n);
    case 'm': return std::chrono::seconds(n * 60);
    case 'h': return std::chrono::seconds(n * 3600);
    case 'd': return std::chrono::seconds(n * 86400);
    default: return std::nullopt;
  }
}

bool valid_address(std::string_view a) {
  return plain_address(a);
}

std::variant<Settings, std::string> read_settings(const config::PluginSection& section) {
  Settings s;
  Reader r{section, {}};
  using Handler = std::function<bool(const std::string&, const Setting&)>;
  const auto seconds = [&](std::chrono::seconds& out, std::int64_t lo, std::int64_t hi) -> Handler {
    return [&out, lo, hi, &r](const std::string& k, const Setting& v) {
      std::int64_t n = 0;
      if (!r.integer(k, v, lo, hi, n)) return false;
      out = std::chrono::seconds(n);
      return true;
    };
  };
  const auto millis = [&](std::chrono::milliseconds& out, std::int64_t lo,
                          std::int64_t hi) -> Handler {
    return [&out, lo, hi, &r](const std::string& k, const Setting& v) {
      std::int64_t n = 0;
      if (!r.integer(k, v, lo, hi, n)) return false;
      out = std::chrono::milliseconds(n);
      return true;
    };
  };
  const auto count = [&](std::size_t& out, std::int64_t lo, std::int64_t hi) -> Handler {
    return [&out, lo, hi, &r](const std::string& k, const Setting& v) {
      std::int64_t n = 0;
      if (!r.integer(k, v, lo, hi, n)) return false;
      out = static_cast<std::size_t>(n);
      return true;
    };
  };
  const auto text = [&](std::string& out) -> Handler {
    return [&out, &r](const std::string& k, const Setting& v) {
      if (!r.string(k, v, out)) return false;
      if (!header_safe(out)) return r.fail(k, v.line, "control characters are not allowed");
      return true;
    };
  };
  std::string tls = "starttls", templates;
  const std::map<std::string, Handler, std::less<>> keys = {
      {"smtp_url", text(s.smtp_url)},
      {"smtp_tls", text(tls)},
      {"smtp_username", text(s.smtp_username)},
      {"connect_timeout_ms", millis(s.connect_timeout, 100, 600000)},
      {"send_timeout_ms", millis(s.send_timeout, 100, 3600000)},
      {"from_address", text(s.from_address)},
      {"from_name", text(s.from_name)},
      {"delay_seconds", seconds(s.delay, 0, 7 * 86400)},
      {"throttle",
       [&](const std::string& k, const Setting& v) {
         const auto* list = std::get_if<std::vector<std::string>>(&v.value);
         if (!list) return r.fail(k, v.line, "expected an array of durations like \"15m\"");
         if (list->empty()) return r.fail(k, v.line, "give at least one step (\"0s\": none)");
         s.throttle.clear();
         for (const auto& step : *list) {
           auto d = parse_duration(step);
           if (!d) return r.fail(k, v.line, fmt::format("'{}' is not a duration like 15m", step));
           s.throttle.push_back(*d);
         }
         return true;
       }},
      {"throttle_reset",
       [&](const std::string& k, const Setting& v) {
         std::string t;
         if (!r.string(k, v, t)) return false;
         auto d = parse_duration(t);
         if (!d) return r.fail(k, v.line, fmt::format("'{}' is not a duration like 24h", t));
         s.throttle_reset = *d;
         return true;
       }},
      {"max_messages_per_room", count(s.max_messages_per_room, 1, 100)},
      {"max_excerpt_chars", count(s.max_excerpt_chars, 20, 5000)},
      {"templates_dir", text(templates)},
      {"project_url", text(s.project_url)},
      {"public_url", text(s.public_url)},
      {"retry_initial_seconds", seconds(s.retry_initial, 1, 86400)},
      {"retry_max_seconds", seconds(s.retry_max, 1, 7 * 86400)},
      {"give_up_after_seconds", seconds(s.give_up_after, 60, 30 * 86400)},
      {"poll_interval_ms", millis(s.poll_interval, 10, 60000)},
      {"claim_batch", count(s.claim_batch, 1, 10000)},
      {"senders", count(s.senders, 1, 64)},
  };
  for (const auto& [key, setting] : section.settings) {
    if (key.starts_with("smtp_password") || key.starts_with("link_secret")) continue;
    auto it = keys.find(key);
    if (it == keys.end()) {
      r.fail(key, setting.line, "unknown key");
      break;
    }
    if (!it->second(key, setting)) break;
  }
  if (r.error.empty()) r.secret("smtp_password", false, s.smtp_password);
  if (r.error.empty()) r.secret("link_secret", true, s.link_secret);
  if (!r.error.empty()) return r.error;

  // The error for `key` at its line (its section's when the key is absent).
  const auto bad = [&](std::string_view key, std::string_view what) -> std::string {
    const Setting* v = r.get(key);
    r.fail(key, v ? v->line : section.line, what);
    return r.error;
  };
  if (tls == "starttls")
    s.smtp_tls = SmtpTls::starttls;
  else if (tls == "none")
    s.smtp_tls = SmtpTls::none;
  else if (tls == "implicit")
    s.smtp_tls = SmtpTls::implicit;
  else
    return bad("smtp_tls", "one of \"starttls\", \"implicit\", \"none\"");
  const bool smtps = s.smtp_url.starts_with("smtps://");
  if (!smtps && !s.smtp_url.starts_with("smtp://"))
    return bad("smtp_url", "must start with smtp:// or smtps://");
  if (smtps != (s.smtp_tls == SmtpTls::implicit))
    return bad("smtp_tls", "smtps:// URLs go with smtp_tls = \"implicit\", and only they");
  if (!s.smtp_password.empty() && s.smtp_username.empty())
    return bad("smtp_username", "missing: a password needs a user name");
  if (!plain_address(s.from_address))
    return bad("from_address", s.from_address.empty() ? "missing: the sender address of the emails"
                                                      : "not an address like salon@example.com");
  if (!s.public_url.starts_with("https://") && !s.public_url.starts_with("http://"))
    return bad("public_url",
               "missing or not an http(s) URL: where people reach /email/unsubscribe");
  while (s.public_url.ends_with('/'))
    s.public_url.pop_back();
  if (s.link_secret.size() < 16) return bad("link_secret", "at least 16 characters");
  if (s.retry_initial > s.retry_max)
    return bad("retry_initial_seconds", "larger than retry_max_seconds");
  if (!templates.empty()) {
    s.templates_dir = templates;
    if (s.templates_dir.is_relative()) s.templates_dir = section.base_dir / s.templates_dir;
  }
  return s;
}

}  // namespace salon::email
