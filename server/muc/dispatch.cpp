// SPDX-License-Identifier: GPL-3.0-or-later
// The plugin dispatcher: the order plugins start in (dependencies first), the order each hook
// runs them in (priority, then configuration order), and what a throwing hook costs (logged and
// counted, never the service). Every hook goes through fire() / fire_refusable() (impl.hpp).
#include <algorithm>

#include "core/log.hpp"
#include "muc/impl.hpp"

namespace salon::muc {
namespace {

constexpr plugin::Hook kHooks[] = {
    plugin::Hook::occupant_pre_join,
    plugin::Hook::occupant_joined,
    plugin::Hook::occupant_left,
    plugin::Hook::presence_changed,
    plugin::Hook::message_before_broadcast,
    plugin::Hook::message_commit,
    plugin::Hook::message_after_broadcast,
    plugin::Hook::subject_changed,
    plugin::Hook::room_destroyed,
    plugin::Hook::member_changed,
};
static_assert(std::size(kHooks) == plugin::kHookCount);

}  // namespace

// Providers before the plugins that depend on them; otherwise the configuration's order.
std::optional<std::string> Service::Impl::order_start() {
  std::vector<plugin::Plugin*> pending;
  for (auto& p : plugins)
    pending.push_back(p.get());
  start_order.clear();
  providers.clear();
  while (!pending.empty()) {
    auto ready = std::find_if(pending.begin(), pending.end(), [&](plugin::Plugin* p) {
      const auto deps = p->depends();
      return std::all_of(deps.begin(), deps.end(),
                         [&](const std::string& d) { return providers.contains(d); });
    });
    if (ready == pending.end()) {
      for (plugin::Plugin* p : pending)
        for (const auto& d : p->depends())
          if (!providers.contains(d))
            return "plugin " + std::string(p->name()) + " depends on '" + d +
                   "', which no enabled plugin provides (or the dependencies form a cycle)";
    }
    plugin::Plugin* p = *ready;
    pending.erase(ready);
    for (auto& service : p->provides())
      if (!providers.emplace(service, p).second)
        return "plugins " + std::string(providers[service]->name()) + " and " +
               std::string(p->name()) + " both provide '" + service + "'";
    start_order.push_back(p);
  }
  return std::nullopt;
}

void Service::Impl::order_hooks() {
  for (const plugin::Hook h : kHooks) {
    auto& order = hook_order[static_cast<std::size_t>(h)];
    order.clear();
    for (auto& p : plugins)
      order.push_back(p.get());
    std::stable_sort(order.begin(), order.end(), [h](plugin::Plugin* a, plugin::Plugin* b) {
      return a->priority(h) > b->priority(h);
    });
  }
}

void Service::Impl::hook_failed(const plugin::Plugin& p, plugin::Hook h, std::string_view what) {
  log::error("muc", "plugin {} threw in {}: {}", p.name(), plugin::to_string(h), what);
  const std::string key = std::string(p.name()) + "/" + std::string(plugin::to_string(h));
  auto it = plugin_errors.find(key);
  if (it == plugin_errors.end())
    it = plugin_errors
             .emplace(key, &metrics_.counter("salon_plugin_errors_total", "Plugin hooks that threw",
                                             {{"plugin", std::string(p.name())},
                                              {"hook", std::string(plugin::to_string(h))}}))
             .first;
  it->second->inc();
}

plugin::Plugin* Service::Impl::provider(std::string_view service) {
  const auto it = providers.find(std::string(service));
  return it == providers.end() ? nullptr : it->second;
}

}  // namespace salon::muc
