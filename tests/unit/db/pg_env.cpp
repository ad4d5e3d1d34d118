// SPDX-License-Identifier: GPL-3.0-or-later
#include "pg_env.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string_view>
#include <thread>

#include "db/conninfo.hpp"

namespace salon::db::test {

std::optional<std::string> admin_conninfo() {
  const char* env = std::getenv("SALON_PG_CONNINFO");
  if (!env || !*env) return std::nullopt;
  return std::string(env);
}

std::string random_hex(std::size_t chars) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < chars; ++i)
    out += digits[rng() % 16];
  return out;
}

ScratchDb::ScratchDb(const std::string& admin) : admin_(admin), name_("test_" + random_hex(16)) {
  pqxx::connection c(admin_);
  pqxx::nontransaction tx(c);
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
  conninfo_ = conninfo_with(admin_, {{"dbname", name_}});
}

// WITH (FORCE) terminates the test's own backends, but not an autovacuum worker that happens
// to be in the fresh database (only a superuser may signal it: "must be a member of the role
// whose process is being terminated"); such a worker is gone within moments, so the drop is
// tried again for up to 10 s before it counts as a failure.
ScratchDb::~ScratchDb() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    try {
      pqxx::connection c(admin_);
      pqxx::nontransaction tx(c);
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
      return;
    } catch (const std::exception& e) {
      const bool busy =
          std::string_view(e.what()).find("must be a member of the role") != std::string_view::npos;
      if (!busy || std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "dropping " << name_ << ": " << e.what();
        return;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TempDir::TempDir()
    : path_(std::filesystem::temp_directory_path() / ("salon-db-test-" + random_hex(12))) {
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::write(const std::string& file, const std::string& content) const {
  std::ofstream(path_ / file, std::ios::binary) << content;
}

void PgTest::SetUp() {
  const auto admin = admin_conninfo();
  if (!admin) GTEST_FAIL() << kNoPostgres;
  admin_ = *admin;
  db_.emplace(admin_);
  guard_.emplace(boost::asio::make_work_guard(io_));
}

void PgTest::TearDown() {
  guard_.reset();
  db_.reset();
}

void PgTest::exec(const std::string& sql) const {
  pqxx::connection c(conninfo());
  pqxx::nontransaction tx(c);
  tx.exec(sql);
}

std::string PgTest::scalar(const std::string& sql) const {
  pqxx::connection c(conninfo());
  pqxx::nontransaction tx(c);
  const pqxx::result r = tx.exec(sql);
  if (r.empty() || r[0][0].is_null()) return {};
  return r[0][0].c_str();
}

bool PgTest::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io_.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace salon::db::test
