// SPDX-License-Identifier: GPL-3.0-or-later
#include "settings.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace salon::archive {

std::variant<Settings, std::string> read_settings(const config::PluginSection& section) {
  Settings s;
  struct Key {
    std::string_view name;
    std::size_t* out;
  };
  const std::vector<Key> keys = {{"default_page", &s.default_page},
                                 {"max_page", &s.max_page},
                                 {"history_default", &s.history_default},
                                 {"history_max", &s.history_max},
                                 {"retention_days", &s.retention_days},
                                 {"purge_interval_seconds", &s.purge_interval_seconds}};
  for (const auto& [name, setting] : section.settings) {
    const auto err = [&](std::string_view what) {
      return fmt::format("line {}: key 'plugins.archive.{}': {}", setting.line, name, what);
    };
    // The spool belongs to the journal now: it keeps every plugin's rows, not the archive's.
    if (name == "spool_dir") return err("moved to [database] spool_dir");
    const Key* key = nullptr;
    for (const auto& k : keys)
      if (k.name == name) key = &k;
    if (!key) return err("unknown key");
    const auto* v = std::get_if<std::int64_t>(&setting.value);
    if (!v) return err("expected an integer");
    const std::int64_t lo = name == "retention_days" ? 0 : 1;
    const std::int64_t hi = name == "purge_interval_seconds" ? 86400
                            : name == "retention_days"       ? 36500
                                                             : 10000;
    if (*v < lo || *v > hi) return err(fmt::format("must be between {} and {}", lo, hi));
    *key->out = static_cast<std::size_t>(*v);
  }
  if (s.default_page > s.max_page)
    return fmt::format("line {}: key 'plugins.archive.default_page': larger than max_page ({})",
                       section.settings.count("default_page")
                           ? section.settings.at("default_page").line
                           : section.line,
                       s.max_page);
  if (s.history_default > s.history_max) s.history_default = s.history_max;
  return s;
}

}  // namespace salon::archive
