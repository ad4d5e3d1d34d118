// SPDX-License-Identifier: GPL-3.0-or-later
// Test support: a scratch PostgreSQL database per test, temporary directories, and running
// the event loop until a condition holds (no sleeps: poll with a deadline).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace salon::db::test {

// $SALON_PG_CONNINFO, or std::nullopt when it is unset.
std::optional<std::string> admin_conninfo();
inline constexpr const char* kNoPostgres =
    "SALON_PG_CONNINFO is not set: these tests need a real PostgreSQL. Run `scripts/stack up`, "
    "then export the variables of .run/stack.env (set -a; . .run/stack.env; set +a) and run "
    "the tests again.";

std::string random_hex(std::size_t chars);

// CREATE DATABASE test_<random> on construction, DROP DATABASE ... WITH (FORCE) on destruction.
class ScratchDb {
public:
  explicit ScratchDb(const std::string& admin);
  ~ScratchDb();
  ScratchDb(const ScratchDb&) = delete;
  ScratchDb& operator=(const ScratchDb&) = delete;
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& conninfo() const { return conninfo_; }

private:
  std::string admin_, name_, conninfo_;
};

class TempDir {
public:
  TempDir();
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  void write(const std::string& file, const std::string& content) const;

private:
  std::filesystem::path path_;
};

// Base fixture: fails (does not skip) without $SALON_PG_CONNINFO, gives each test a scratch
// database and an io_context that stays alive between run_until() calls.
class PgTest : public ::testing::Test {
protected:
  void SetUp() override;
  void TearDown() override;
  [[nodiscard]] const std::string& conninfo() const { return db_->conninfo(); }
  [[nodiscard]] const std::string& admin() const { return admin_; }
  // Runs one SQL string on the scratch database (a fresh connection, autocommit).
  void exec(const std::string& sql) const;
  // The first column of the first row of `sql` on the scratch database, as text ("" if NULL).
  [[nodiscard]] std::string scalar(const std::string& sql) const;
  // Runs the loop until `done` returns true; false after `timeout`.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(15));

  boost::asio::io_context io_;

private:
  std::string admin_;
  std::optional<ScratchDb> db_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
};

}  // namespace salon::db::test
