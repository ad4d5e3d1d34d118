// SPDX-License-Identifier: GPL-3.0-or-later
// salond — the salon MUC component.
//   salond --config FILE [--log-format=text|json] [--log-level=LEVEL]
//   salond --check-config FILE
//   salond --version
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "app/daemon.hpp"
#include "app/plugins.hpp"
#include "config/config.hpp"
#include "core/log.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: salond --config FILE [--log-format=text|json] [--log-level=LEVEL]\n"
    "       salond --check-config FILE\n"
    "       salond --version\n";

struct Options {
  std::string config_path;
  bool check_only = false;
  std::optional<std::string> log_format, log_level;
};

// Returns the value of "--name=value" or "--name value" (advancing i), nullopt otherwise.
std::optional<std::string> value_of(std::string_view name, int argc, char** argv, int& i) {
  const std::string_view arg = argv[i];
  if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=')
    return std::string(arg.substr(name.size() + 1));
  if (arg == name && i + 1 < argc) return std::string(argv[++i]);
  return std::nullopt;
}

std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (auto v = value_of("--config", argc, argv, i))
      o.config_path = *v;
    else if (auto v2 = value_of("--check-config", argc, argv, i)) {
      o.config_path = *v2;
      o.check_only = true;
    } else if (auto v3 = value_of("--log-format", argc, argv, i))
      o.log_format = *v3;
    else if (auto v4 = value_of("--log-level", argc, argv, i))
      o.log_level = *v4;
    else {
      std::fprintf(stderr, "salond: unknown argument '%.*s'\n%.*s", static_cast<int>(arg.size()),
                   arg.data(), static_cast<int>(kUsage.size()), kUsage.data());
      return std::nullopt;
    }
  }
  if (o.config_path.empty()) {
    std::fprintf(stderr, "%.*s", static_cast<int>(kUsage.size()), kUsage.data());
    return std::nullopt;
  }
  return o;
}

// Command-line flags win over the file.
bool apply_logging(const Options& o, salon::config::Config& c) {
  if (o.log_format) {
    if (*o.log_format == "json")
      c.log.format = salon::config::LogFormat::json;
    else if (*o.log_format == "text")
      c.log.format = salon::config::LogFormat::text;
    else {
      std::fprintf(stderr, "salond: --log-format must be text or json\n");
      return false;
    }
  }
  if (o.log_level) c.log.level = *o.log_level;
  const auto level = salon::log::parse_level(c.log.level);
  if (!level) {
    std::fprintf(stderr, "salond: unknown log level '%s'\n", c.log.level.c_str());
    return false;
  }
  salon::log::set_level(*level);
  salon::log::set_json(c.log.format == salon::config::LogFormat::json);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--version") {
    std::printf("salond %s\n", SALON_VERSION);
    return 0;
  }
  const auto options = parse_args(argc, argv);
  if (!options) return salon::app::exit_config;
  auto loaded = salon::config::load_file(options->config_path);
  if (!loaded.config) {
    std::fprintf(stderr, "%s\n", loaded.error->str().c_str());
    return salon::app::exit_config;
  }
  if (options->check_only) {
    if (auto err = salon::app::check_plugins(*loaded.config)) {
      std::fprintf(stderr, "%s\n", err->c_str());
      return salon::app::exit_config;
    }
    std::printf("%s: OK\n", options->config_path.c_str());
    return 0;
  }
  if (!apply_logging(*options, *loaded.config)) return salon::app::exit_config;
  salon::app::Daemon daemon(std::move(*loaded.config));
  return daemon.run();
}
