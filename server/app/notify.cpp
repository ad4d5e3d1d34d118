// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/notify.hpp"

#include <systemd/sd-daemon.h>

namespace salon::app {

void notify_ready() {
  sd_notify(0, "READY=1\nSTATUS=XMPP link authenticated");
}
void notify_stopping() {
  sd_notify(0, "STOPPING=1");
}
void notify_watchdog() {
  sd_notify(0, "WATCHDOG=1");
}

std::chrono::microseconds watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) return std::chrono::microseconds(usec);
  return std::chrono::microseconds(0);
}

}  // namespace salon::app
