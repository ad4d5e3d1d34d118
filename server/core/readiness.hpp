// SPDX-License-Identifier: GPL-3.0-or-later
// What /readyz reports: every dependency by name with its state and since when. A critical
// check that is down makes salond not ready (503: the XMPP link, PostgreSQL); any other check
// that is not up is named as degraded while salond stays ready (200: the chat works without
// SMTP, and a load balancer must not take it out for that). Loop thread only.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace salon {

enum class CheckState { up, degraded, down };
std::string_view to_string(CheckState s);

struct CheckResult {
  CheckState state = CheckState::up;
  std::string detail;  // why, when not up (shown as is: no secrets)
};

class Readiness {
public:
  using Clock = std::chrono::system_clock;
  void add(std::string name, bool critical, std::function<CheckResult()> probe);

  struct Report {
    int status = 200;  // 503 when a critical check is down
    std::string json;  // {"status":..,"down":[..],"degraded":[..],"checks":{name:state},
                       //  "details":{name:{"state","since","critical","detail"}}}
  };
  // Runs every probe; `since` is when a check last changed state, as this object saw it.
  Report report(Clock::time_point now = Clock::now());

private:
  struct Entry {
    std::string name;
    bool critical = false;
    std::function<CheckResult()> probe;
    CheckState last = CheckState::up;
    Clock::time_point since{};
    bool seen = false;
  };
  std::vector<Entry> entries_;
};

}  // namespace salon
