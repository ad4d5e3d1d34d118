// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers for the config tests: documents built line by line (so the expected line numbers are
// visible), a temporary directory, and an expect-an-error loader.
#pragma once

#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>

namespace salon::config::test {

// Values that must never appear in an error message.
inline constexpr std::string_view kSecret = "TOPSECRET-c0mp0nent";
inline constexpr std::string_view kPgPassword = "PGPASS-9f8e7d";

// Line N of the document is the N-th string.
inline std::string lines(std::initializer_list<std::string_view> ls) {
  std::string out;
  for (auto l : ls) {
    out += l;
    out += '\n';
  }
  return out;
}

// The smallest valid file: 5 lines.
inline std::string minimal() {
  return lines({"[component]", "domain = \"rooms.localhost\"",
                "secret = \"" + std::string(kSecret) + "\"", "[database]",
                "conninfo = \"host=/run/postgresql dbname=salon password=" +
                    std::string(kPgPassword) + "\""});
}

inline Error load_error(const std::string& toml) {
  Result r = load_string(toml, "salon.toml");
  EXPECT_FALSE(r.config.has_value());
  if (!r.error) {
    ADD_FAILURE() << "expected an error for:\n" << toml;
    return Error{};
  }
  return *r.error;
}

inline Config load_ok(const std::string& toml) {
  Result r = load_string(toml, "salon.toml");
  if (!r.config) {
    ADD_FAILURE() << "unexpected error: " << (r.error ? r.error->str() : "none") << "\nfor:\n"
                  << toml;
    return Config{};
  }
  EXPECT_FALSE(r.error.has_value());
  return *r.config;
}

class TempDir {
public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "salon-config-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, std::string_view content) const {
    auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

private:
  std::filesystem::path path_;
};

// Sets an environment variable for the lifetime of the object.
class ScopedEnv {
public:
  ScopedEnv(std::string name, const char* value) : name_(std::move(name)) {
    if (value)
      ::setenv(name_.c_str(), value, 1);
    else
      ::unsetenv(name_.c_str());
  }
  ~ScopedEnv() { ::unsetenv(name_.c_str()); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  std::string name_;
};

}  // namespace salon::config::test
