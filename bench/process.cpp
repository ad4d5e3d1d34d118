// SPDX-License-Identifier: GPL-3.0-or-later
#include "process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace salon::bench {

namespace fs = std::filesystem;

namespace {
std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The number after "Key:" in a /proc "Key:   value unit" file.
std::uint64_t proc_field(const std::string& text, std::string_view key) {
  const auto at = text.find(std::string(key) + ":");
  if (at == std::string::npos) return 0;
  return std::strtoull(text.c_str() + at + key.size() + 1, nullptr, 10);
}
}  // namespace

void write_config(const fs::path& file, const SalondConfig& c) {
  std::ofstream out(file);
  out << "# Written by salon_load (bench/).\n"
      << "[component]\n"
      << "domain = " << toml_string(c.domain) << "\n"
      << "server_host = \"127.0.0.1\"\n"
      << "server_port = " << c.component_port << "\n"
      << "secret = " << toml_string(c.secret) << "\n"
      << "\n[database]\n"
      << "conninfo = " << toml_string(c.pg_conninfo) << "\n"
      << "\n[http]\n"
      << "listen = \"127.0.0.1:" << c.http_port << "\"\n"
      << "api_token = " << toml_string(c.api_token) << "\n"
      << "\n[log]\n"
      << "level = " << toml_string(c.log_level) << "\n"
      << "\n[muc]\n"
      << "messages_per_second = 1000000.0\n"
      << "message_burst = 1000000.0\n"
      << "idle_unload_seconds = 86400\n";
  if (c.archive) out << "\n[plugins.archive]\nenabled = true\n";
  // By default digests are due a day later: the run measures what queuing them costs the
  // write path. --email-delay 0 with --email-smtp at a dead or stalling server measures what
  // an SMTP outage costs the chat (it must cost nothing: the sender has its own thread).
  if (c.email)
    out << "\n[plugins.markers]\nenabled = true\n"
        << "\n[plugins.email]\nenabled = true\nsmtp_url = " << toml_string(c.email_smtp) << "\n"
        << "smtp_tls = \"none\"\nfrom_address = \"bench@localhost\"\n"
        << "public_url = \"http://127.0.0.1\"\nlink_secret = \"salon-bench-link-secret\"\n"
        << "delay_seconds = " << c.email_delay << "\nthrottle = [\"0s\"]\n"
        << "connect_timeout_ms = 5000\nsend_timeout_ms = 10000\n";
  if (!out) throw std::runtime_error("cannot write " + file.string());
  out.close();
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

SalondProcess::SalondProcess(const std::string& binary, const fs::path& config, const fs::path& dir,
                             const std::string& cpus)
    : out_(dir / "salond.stdout"), err_(dir / "salond.stderr") {
  std::vector<std::string> args;
  if (!cpus.empty()) args = {"taskset", "-c", cpus};
  args.insert(args.end(), {binary, "--config", config.string()});
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int rc = posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error(fmt::format("cannot start {}: {}", argv[0], strerror(rc)));
}

SalondProcess::~SalondProcess() {
  if (!status_) stop(5.0);
}

std::optional<int> SalondProcess::exited() {
  if (status_) return status_;
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_)
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
  return status_;
}

int SalondProcess::stop(double timeout_s) {
  if (exited()) return *status_;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (exited()) return *status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  int st = 0;
  waitpid(pid_, &st, 0);
  status_ = -SIGKILL;
  return *status_;
}

std::string SalondProcess::stderr_tail(std::size_t bytes) const {
  const std::string all = read_file(err_.string());
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

std::uint64_t rss_kib(pid_t pid) {
  return proc_field(read_file(fmt::format("/proc/{}/status", pid)), "VmRSS");
}

int thread_count(pid_t pid) {
  return static_cast<int>(proc_field(read_file(fmt::format("/proc/{}/status", pid)), "Threads"));
}

double cpu_seconds(pid_t pid) {
  const std::string stat = read_file(pid ? fmt::format("/proc/{}/stat", pid) : "/proc/self/stat");
  // Fields after the ')' that ends the command name: state is field 3, utime 14, stime 15.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && (in >> field); ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double machine_busy_seconds() {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
  std::istringstream in(read_file("/proc/stat"));
  std::string label;
  unsigned long long v[8] = {};
  in >> label;
  for (auto& x : v)
    in >> x;
  const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string load_average() {
  std::string s = read_file("/proc/loadavg");
  const auto parts = s.find(' ', s.find(' ', s.find(' ') + 1) + 1);
  return s.substr(0, parts);
}

std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  close(fd);
  return ntohs(a.sin_port);
}

std::string random_hex(std::size_t bytes) {
  std::random_device rd;
  std::string s;
  for (std::size_t i = 0; i < bytes; ++i)
    s += fmt::format("{:02x}", rd() & 0xff);
  return s;
}

Machine describe_machine() {
  Machine m;
  m.cpus = std::thread::hardware_concurrency();
  const std::string cpuinfo = read_file("/proc/cpuinfo");
  if (auto at = cpuinfo.find("model name"); at != std::string::npos) {
    const auto colon = cpuinfo.find(':', at);
    const auto eol = cpuinfo.find('\n', colon);
    m.cpu_model = cpuinfo.substr(colon + 2, eol - colon - 2);
  }
  m.mem_total_kib = proc_field(read_file("/proc/meminfo"), "MemTotal");
  utsname u{};
  if (uname(&u) == 0) m.kernel = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  return m;
}

}  // namespace salon::bench
