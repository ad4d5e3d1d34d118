// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "core/text.hpp"

namespace salon::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::atomic<bool> g_json{false};
std::mutex g_mutex;

std::string_view name(Level l) {
  switch (l) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

std::string timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto t = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  append_json_escaped(out, s);
  out += '"';
}
}  // namespace

std::optional<Level> parse_level(std::string_view s) {
  for (Level l : {Level::trace, Level::debug, Level::info, Level::warn, Level::error})
    if (name(l) == s) return l;
  return std::nullopt;
}

void set_level(Level level) {
  g_level = static_cast<int>(level);
}
void set_json(bool json) {
  g_json = json;
}
bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view area, std::string_view message) {
  std::string line;
  if (g_json) {
    line = "{\"ts\":";
    append_json_string(line, timestamp());
    line += ",\"level\":";
    append_json_string(line, name(level));
    line += ",\"area\":";
    append_json_string(line, area);
    line += ",\"msg\":";
    append_json_string(line, message);
    line += "}\n";
  } else {
    line = fmt::format("{} {:<5} [{}] {}\n", timestamp(), name(level), area, message);
  }
  std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace salon::log
