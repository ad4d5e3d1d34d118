// SPDX-License-Identifier: GPL-3.0-or-later
// What salon_load prints: the exact command, the machine, every figure as it is measured, and
// a summary against the targets of issue 3.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "scenario.hpp"

namespace salon::bench {

class Report {
public:
  Report(const Options& opts, int argc, char** argv);

  void header();
  template <typename... Args>
  void line(fmt::format_string<Args...> f, Args&&... args) {
    emit(fmt::format(f, std::forward<Args>(args)...));
  }
  // Prints the failure; returns the exit code for it.
  int fail(const std::string& why);

  void print_http(const std::string& what, const HttpPhase& p);
  void print_requests(const std::string& what, RequestPhase& p);
  void print_messages(LoadPhase& p);
  // The summary and the target table; the exit code (0 when the run had no errors).
  int finish(const Bench& b);

  std::uint64_t rss_start = 0, rss_provisioned = 0, rss_loaded = 0, rss_joined = 0,
                rss_after_load = 0;
  HttpPhase provision;
  RequestPhase load, join, affiliations, leave;
  LoadPhase messages;

private:
  void emit(const std::string& s);
  const Options& opts_;
  std::string command_;
  Clock::time_point t0_ = Clock::now();
  bool failed_ = false;
};

}  // namespace salon::bench
