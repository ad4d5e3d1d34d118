// SPDX-License-Identifier: GPL-3.0-or-later
// Logging: human-readable lines by default, JSON lines with --log-format=json. The log is the
// one process-wide facility (every thread writes to stderr through it); it is thread-safe.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>

namespace salon::log {

enum class Level { trace = 0, debug, info, warn, error };

std::optional<Level> parse_level(std::string_view s);
void set_level(Level level);
void set_json(bool json);
[[nodiscard]] bool enabled(Level level);
// Writes one line: "2026-11-28T03:00:00.123Z info  [area] message" or a JSON object.
void write(Level level, std::string_view area, std::string_view message);

template <typename... Args>
void at(Level level, std::string_view area, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level)) write(level, area, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(std::string_view area, fmt::format_string<Args...> f, Args&&... args) {
  at(Level::debug, area, f, std::forward<Args>(args)...);
}
template <typename... Args>
void info(std::string_view area, fmt::format_string<Args...> f, Args&&... args) {
  at(Level::info, area, f, std::forward<Args>(args)...);
}
template <typename... Args>
void warn(std::string_view area, fmt::format_string<Args...> f, Args&&... args) {
  at(Level::warn, area, f, std::forward<Args>(args)...);
}
template <typename... Args>
void error(std::string_view area, fmt::format_string<Args...> f, Args&&... args) {
  at(Level::error, area, f, std::forward<Args>(args)...);
}

}  // namespace salon::log
