// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/plugins.hpp"

#include <fmt/format.h>

#include "config/config.hpp"
#include "core/log.hpp"
#include "muc/service.hpp"
#include "plugin/plugin.hpp"

namespace salon::app {

std::optional<std::string> add_enabled_plugins(muc::Service& service, const config::Config& c) {
  const auto available = plugin::builtin_plugins();
  for (const auto& [name, section] : c.plugins) {
    const plugin::Factory* factory = nullptr;
    for (const auto& f : available)
      if (f.name == name) factory = &f;
    if (!factory)
      return fmt::format("{}:{}: [plugins.{}]: no such plugin in this build", c.path, section.line,
                         name);
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
