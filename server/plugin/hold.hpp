// SPDX-License-Identifier: GPL-3.0-or-later
// The shared state behind a plugin::BroadcastHold. The core creates one per hold it hands out
// and is told exactly once how the hold ended: released (nullopt) or failed (an error).
#pragma once

#include <functional>
#include <optional>

#include "plugin/plugin.hpp"

namespace salon::plugin {

struct BroadcastHold::State {
  std::function<void(std::optional<StanzaError>)> settle;
  bool settled = false;

  void finish(std::optional<StanzaError> error) {
    if (settled) return;
    settled = true;
    // Moved out first: `settle` may release the last reference to this state.
    auto fn = std::move(settle);
    if (fn) fn(std::move(error));
  }
};

}  // namespace salon::plugin
