// SPDX-License-Identifier: GPL-3.0-or-later
// The salond under test: its generated config, the child process (optionally under
// taskset), and what /proc says about it (RSS, CPU time). Plus facts about the machine.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace salon::bench {

struct SalondConfig {
  std::string domain;
  std::uint16_t component_port = 0;
  std::string secret;
  std::string pg_conninfo;
  std::uint16_t http_port = 0;
  std::string api_token;
  std::string log_level = "warn";
  bool archive = false;  // [plugins.archive] enabled
  bool email = false;    // [plugins.markers] and [plugins.email] enabled
  std::string email_smtp = "smtp://127.0.0.1:9";
  std::size_t email_delay = 86400;  // by default nothing is due during a run
};

// Writes the TOML salond reads (see deploy/salon.example.toml). Flood control is lifted and
// idle unloading pushed out: the benchmark measures capacity, not the limits.
void write_config(const std::filesystem::path& file, const SalondConfig& c);

class SalondProcess {
public:
  // Starts `binary --config config` with stdout/stderr to files in `dir`; `cpus` (e.g. "1")
  // runs it under `taskset -c cpus`.
  SalondProcess(const std::string& binary, const std::filesystem::path& config,
                const std::filesystem::path& dir, const std::string& cpus);
  ~SalondProcess();
  SalondProcess(const SalondProcess&) = delete;
  SalondProcess& operator=(const SalondProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // The exit status if it has exited (without blocking).
  std::optional<int> exited();
  // SIGTERM, then SIGKILL after `timeout_s`; returns the exit status (-signal when killed).
  int stop(double timeout_s = 20.0);
  [[nodiscard]] std::string stderr_tail(std::size_t bytes = 3000) const;
  [[nodiscard]] const std::filesystem::path& log_path() const { return err_; }

private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path out_, err_;
};

// VmRSS of a process in KiB (0 when unreadable).
std::uint64_t rss_kib(pid_t pid);
// utime + stime of a process (or of this one with pid 0) in seconds.
double cpu_seconds(pid_t pid);
// CPU time the whole machine spent busy (all CPUs, all processes; /proc/stat), in seconds.
double machine_busy_seconds();
// The 1/5/15-minute load averages as printed in /proc/loadavg.
std::string load_average();
// Number of threads of a process.
int thread_count(pid_t pid);

// A loopback TCP port that is free right now (the kernel picks it).
std::uint16_t free_port();
std::string random_hex(std::size_t bytes);

struct Machine {
  unsigned cpus = 0;
  std::string cpu_model;
  std::uint64_t mem_total_kib = 0;
  std::string kernel;
};
Machine describe_machine();

}  // namespace salon::bench
