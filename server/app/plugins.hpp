// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <optional>
#include <string>

namespace salon {
namespace muc {
class Service;
}
namespace config {
struct Config;
}
}  // namespace salon

namespace salon::app {

// Adds every compiled-in plugin whose [plugins.NAME] section says enabled = true. A section
// naming a plugin that is not compiled in is an error (a typo would otherwise silently
// disable, say, the archive).
std::optional<std::string> add_enabled_plugins(muc::Service& service, const config::Config& c);
// What --check-config adds to the core's validation: the same checks, plus each enabled
// plugin's own (Plugin::check), so a bad [plugins.NAME] key fails here, not at start.
std::optional<std::string> check_plugins(const config::Config& c);

}  // namespace salon::app
