// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/readiness.hpp"

#include <fmt/format.h>

#include "core/stamp.hpp"
#include "core/text.hpp"

namespace salon {

std::string_view to_string(CheckState s) {
  switch (s) {
    case CheckState::up: return "up";
    case CheckState::degraded: return "degraded";
    case CheckState::down: return "down";
  }
  return "down";
}

void Readiness::add(std::string name, bool critical, std::function<CheckResult()> probe) {
  entries_.push_back(Entry{std::move(name), critical, std::move(probe)});
}

Readiness::Report Readiness::report(Clock::time_point now) {
  std::string down, degraded, checks, details;
  const auto list = [](std::string& out, std::string_view name) {
    if (!out.empty()) out += ',';
    out += '"';
    append_json_escaped(out, name);
    out += '"';
  };
  for (Entry& e : entries_) {
    CheckResult r;
    try {
      r = e.probe();
    } catch (const std::exception& ex) {
      r = {CheckState::down, std::string("the check failed: ") + ex.what()};
    }
    if (!e.seen || r.state != e.last) {
      e.last = r.state;
      e.since = now;
      e.seen = true;
    }
    if (r.state != CheckState::up)
      list(e.critical && r.state == CheckState::down ? down : degraded, e.name);
    if (!checks.empty()) checks += ',';
    checks += fmt::format("\"{}\":\"{}\"", e.name, to_string(r.state));
    if (!details.empty()) details += ',';
    std::string detail;
    append_json_escaped(detail, r.detail);
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(e.since.time_since_epoch()).count();
    details += fmt::format(
        "\"{}\":{{\"state\":\"{}\",\"since\":\"{}\",\"critical\":{},\"detail\":\"{}\"}}", e.name,
        to_string(r.state), format_stamp(us), e.critical ? "true" : "false", detail);
  }
  Report rep;
  rep.status = down.empty() ? 200 : 503;
  const std::string_view status = !down.empty()       ? "not ready"
                                  : !degraded.empty() ? "degraded"
                                                      : "ready";
  rep.json = fmt::format(
      "{{\"status\":\"{}\",\"down\":[{}],\"degraded\":[{}],\"checks\":{{{}}},\"details\":{{{}}}}}"
      "\n",
      status, down, degraded, checks, details);
  return rep;
}

}  // namespace salon
