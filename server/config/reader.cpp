// SPDX-License-Identifier: GPL-3.0-or-later
// Typed, checked access to one table of the config tree (see tree.hpp). No toml++ here.
#include "config/tree.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <system_error>

namespace salon::config::detail {

namespace {

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();
// Durations end up as nanoseconds in Asio timers: these caps (~292 years) keep them from
// overflowing there. Bounds this large are technical, not worth naming in a message.
constexpr std::int64_t kMaxMs = kMaxInt / 1'000'000;
constexpr std::int64_t kMaxSeconds = kMaxInt / 1'000'000'000;
constexpr std::int64_t kUnbounded = kMaxSeconds;
// A secret file is a few bytes; refusing big ones keeps a wrong path (a log, /dev/zero) from
// being read into memory.
constexpr std::size_t kMaxSecretFile = std::size_t{64} * 1024;

std::string range_message(std::int64_t min, std::int64_t max, std::int64_t got) {
  if (max < kUnbounded) return fmt::format("must be between {} and {}, got {}", min, max, got);
  if (got > max) return fmt::format("must be at most {}, got {}", max, got);
  if (min == 1) return fmt::format("must be positive, got {}", got);
  return fmt::format("must be at least {}, got {}", min, got);
}

// std::strerror is not thread-safe; the generic category's message is.
std::string errno_message() {
  return std::error_code(errno, std::generic_category()).message();
}

// Reads a whole (small) regular file; on failure returns the reason, never the content.
std::optional<std::string> read_small_file(const std::filesystem::path& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_message();
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_message();
  if (!S_ISREG(st.st_mode)) return std::string("not a regular file");
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_message();
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxSecretFile) return fmt::format("larger than {} bytes", kMaxSecretFile);
  }
  return std::nullopt;
}

}  // namespace

void Errors::add(std::string key, int line, std::string message, bool missing) {
  errors_.push_back({Error{std::move(key), line, std::move(message), {}}, missing});
}

Error Errors::first() const {
  // Earliest line wins. A missing key (reported at its table's header, or without a line)
  // comes after every error about a key that is there: a misspelt key explains the missing one.
  auto rank = [](const Entry& e) {
    return std::pair(e.missing || e.error.line == 0, e.error.line);
  };
  return std::min_element(errors_.begin(), errors_.end(),
                          [&](const Entry& a, const Entry& b) { return rank(a) < rank(b); })
      ->error;
}

Section::Section(const Node* table, std::string prefix, Context& context)
    : table_(table), prefix_(std::move(prefix)), context_(context) {}

std::string Section::dotted(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : fmt::format("{}.{}", prefix_, key);
}

void Section::error(std::string_view key, int line, std::string message) {
  context_.errors.add(dotted(key), line, std::move(message));
}

void Section::missing(std::string_view key, std::string message) {
  context_.errors.add(dotted(key), line(), std::move(message), true);
}

const Member* Section::find(std::string_view key) {
  known_.emplace_back(key);
  if (!table_) return nullptr;
  for (const Member& m : table_->members)
    if (m.key == key) return &m;
  return nullptr;
}

const Node* Section::typed(std::string_view key, Node::Kind kind, std::string_view expected) {
  const Member* m = find(key);
  if (!m) return nullptr;
  if (m->node.kind != kind) {
    error(key, m->line, fmt::format("expected {}, got {}", expected, m->node.type_name));
    return nullptr;
  }
  return &m->node;
}

const Node* Section::table(std::string_view key) {
  return typed(key, Node::Kind::table, "table");
}

bool Section::boolean(std::string_view key, bool& out) {
  const Node* n = typed(key, Node::Kind::boolean, "boolean");
  if (n) out = n->boolean;
  return n != nullptr;
}

bool Section::string(std::string_view key, std::string& out) {
  const Node* n = typed(key, Node::Kind::string, "string");
  if (n) out = n->string;
  return n != nullptr;
}

bool Section::integer(std::string_view key, std::int64_t min, std::int64_t max, std::int64_t& out) {
  const Node* n = typed(key, Node::Kind::integer, "integer");
  if (!n) return false;
  if (n->integer < min || n->integer > max) {
    error(key, n->line, range_message(min, max, n->integer));
    return false;
  }
  out = n->integer;
  return true;
}

bool Section::positive_ms(std::string_view key, std::chrono::milliseconds& out) {
  std::int64_t v = 0;
  if (!integer(key, 1, kMaxMs, v)) return false;
  out = std::chrono::milliseconds(v);
  return true;
}

bool Section::positive_seconds(std::string_view key, std::chrono::seconds& out) {
  std::int64_t v = 0;
  if (!integer(key, 1, kMaxSeconds, v)) return false;
  out = std::chrono::seconds(v);
  return true;
}

bool Section::positive_size(std::string_view key, std::size_t& out) {
  std::int64_t v = 0;
  if (!integer(key, 1, kMaxInt, v)) return false;
  out = static_cast<std::size_t>(v);
  return true;
}

bool Section::positive_float(std::string_view key, double& out) {
  const Member* m = find(key);
  if (!m) return false;
  const Node& n = m->node;
  // `rate = 10` is an integer in TOML; demanding `10.0` would only annoy.
  if (n.kind != Node::Kind::floating && n.kind != Node::Kind::integer) {
    error(key, m->line, fmt::format("expected float, got {}", n.type_name));
    return false;
  }
  double v = n.kind == Node::Kind::integer ? static_cast<double>(n.integer) : n.floating;
  if (!std::isfinite(v) || v <= 0) {
    error(key, m->line, fmt::format("must be a positive number, got {}", v));
    return false;
  }
  out = v;
  return true;
}

bool Section::port(std::string_view key, std::uint16_t& out) {
  std::int64_t v = 0;
  if (!integer(key, 1, 65535, v)) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

void Section::resolve_env(const Member& m, std::string_view key, std::string& out) {
  if (m.node.kind != Node::Kind::string) {
    error(key, m.line, fmt::format("expected string, got {}", m.node.type_name));
    return;
  }
  const std::string& var = m.node.string;
  if (var.empty()) return error(key, m.line, "must name an environment variable");
  // NOLINTNEXTLINE(concurrency-mt-unsafe): salond never modifies its environment.
  const char* value = std::getenv(var.c_str());
  if (!value) return error(key, m.line, fmt::format("environment variable {} is not set", var));
  if (!*value) return error(key, m.line, fmt::format("environment variable {} is empty", var));
  out = value;
}

void Section::resolve_file(const Member& m, std::string_view key, std::string& out) {
  if (m.node.kind != Node::Kind::string) {
    error(key, m.line, fmt::format("expected string, got {}", m.node.type_name));
    return;
  }
  if (m.node.string.empty()) return error(key, m.line, "must name a file");
  std::filesystem::path path(m.node.string);
  if (path.is_relative() && !context_.base_dir.empty()) path = context_.base_dir / path;
  std::string content;
  if (auto why = read_small_file(path, content))
    return error(key, m.line, fmt::format("cannot read '{}': {}", path.string(), *why));
  // `echo secret > file` adds a newline that is not part of the secret.
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r'))
    content.pop_back();
  if (content.empty()) return error(key, m.line, fmt::format("file '{}' is empty", path.string()));
  out = std::move(content);
}

int Section::secret(std::string_view name, bool required, SecretForms forms, std::string& out) {
  std::vector<std::string> names{std::string(name)};
  if (forms.env) names.push_back(fmt::format("{}_env", name));
  if (forms.file) names.push_back(fmt::format("{}_file", name));
  std::vector<const Member*> set;
  for (const auto& n : names)
    if (const Member* m = find(n)) set.push_back(m);
  std::string choices = names.size() == 2
                            ? fmt::format("{} or {}", names[0], names[1])
                            : fmt::format("{}, {} or {}", names[0], names[1], names[2]);
  if (set.empty()) {
    if (required) missing(name, fmt::format("one of {} is required", choices));
    return 0;
  }
  if (set.size() > 1) {
    std::sort(set.begin(), set.end(), [](auto* a, auto* b) { return a->line < b->line; });
    error(set[1]->key, set[1]->line,
          fmt::format("only one of {} may be set ({} is set on line {})", choices, set[0]->key,
                      set[0]->line));
    return 0;
  }
  const Member& m = *set.front();
  if (m.key == names[0]) {
    // The value itself is never quoted in a message, not even its type mismatch.
    if (m.node.kind != Node::Kind::string)
      error(m.key, m.line, fmt::format("expected string, got {}", m.node.type_name));
    else if (m.node.string.empty())
      error(m.key, m.line, "must not be empty");
    else
      out = m.node.string;
  } else if (m.key.ends_with("_env")) {
    resolve_env(m, m.key, out);
  } else {
    resolve_file(m, m.key, out);
  }
  return m.line;
}

void Section::finish() {
  if (!table_) return;
  std::vector<std::string> known;  // in the order asked for, once each
  for (const auto& k : known_)
    if (std::find(known.begin(), known.end(), k) == known.end()) known.push_back(k);
  for (const Member& m : table_->members) {
    if (std::find(known.begin(), known.end(), m.key) != known.end()) continue;
    error(m.key, m.line,
          fmt::format("unknown {}; known keys here: {}",
                      m.node.kind == Node::Kind::table ? "table" : "key", fmt::join(known, ", ")));
  }
}

}  // namespace salon::config::detail
