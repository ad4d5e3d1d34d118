// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/plugins.hpp"

#include <fmt/format.h>

#include "config/config.hpp"
#include "core/log.hpp"
#include "muc/service.hpp"
#include "plugin/plugin.hpp"

namespace salon::app {

namespace {
const plugin::Factory* find_factory(const std::vector<plugin::Factory>& available,
                                    std::string_view name) {
  for (const auto& f : available)
    if (f.name == name) return &f;
  return nullptr;
}

std::string no_such_plugin(const config::Config& c, const std::string& name,
                           const config::PluginSection& section) {
  return fmt::format("{}:{}: [plugins.{}]: no such plugin in this build", c.path, section.line,
                     name);
}
}  // namespace

std::optional<std::string> check_plugins(const config::Config& c) {
  const auto available = plugin::builtin_plugins();
  for (const auto& [name, section] : c.plugins) {
    const plugin::Factory* factory = find_factory(available, name);
    if (!factory) return no_such_plugin(c, name, section);
    if (!section.enabled) continue;
    if (auto err = factory->make()->check(section))
      return fmt::format("{}: plugin {}: {}", c.path, name, *err);
  }
  return std::nullopt;
}

std::optional<std::string> add_enabled_plugins(muc::Service& service, const config::Config& c) {
  const auto available = plugin::builtin_plugins();
  for (const auto& [name, section] : c.plugins) {
    const plugin::Factory* factory = find_factory(available, name);
    if (!factory) return no_such_plugin(c, name, section);
    if (!section.enabled) {
      log::info("plugin", "{} is disabled", name);
      continue;
    }
    service.add_plugin(factory->make());
    log::info("plugin", "{} enabled", name);
  }
  return std::nullopt;
}

}  // namespace salon::app
