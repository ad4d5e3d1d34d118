// SPDX-License-Identifier: GPL-3.0-or-later
// systemd integration (Type=notify): READY=1 once the link is up, STOPPING=1, watchdog pings.
// Harmless no-ops when not run by systemd.
#pragma once

#include <chrono>

namespace salon::app {

void notify_ready();
void notify_stopping();
void notify_watchdog();
// The watchdog interval systemd asked for (WatchdogSec), zero when disabled.
std::chrono::microseconds watchdog_interval();

}  // namespace salon::app
