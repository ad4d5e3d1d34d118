// SPDX-License-Identifier: GPL-3.0-or-later
// [plugins.archive] keys (deploy/salon.example.toml documents them).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <variant>

#include "config/config.hpp"

namespace salon::archive {

struct Settings {
  std::size_t default_page = 50;              // MAM page without RSM <max/>
  std::size_t max_page = 250;                 // hard cap on any MAM page
  std::size_t history_default = 20;           // history on join without maxstanzas
  std::size_t history_max = 100;              // cap on maxstanzas
  std::size_t retention_days = 0;             // 0 = keep forever (a room may override)
  std::size_t purge_interval_seconds = 3600;  // how often expired messages are deleted
};

// Settings, or "line N: key 'plugins.archive.K': what is wrong".
std::variant<Settings, std::string> read_settings(const config::PluginSection& section);

}  // namespace salon::archive
