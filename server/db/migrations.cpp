// SPDX-License-Identifier: GPL-3.0-or-later
#include "db/migrations.hpp"

#include <fmt/format.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "core/log.hpp"

#ifndef SALON_SCHEMA_DIR
#error "SALON_SCHEMA_DIR must be defined by the build (server/db/CMakeLists.txt)"
#endif

namespace salon::db {
namespace {

// pg_advisory_xact_lock key shared by every salond on a database: ASCII "salonmig".
constexpr long long kLockKey = 0x73616c6f6e6d6967LL;

bool valid_name_part(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// "NNN_name.sql" -> version and name; false when the name does not have that shape.
bool parse_file_name(std::string_view file, int& version, std::string& name) {
  constexpr std::string_view ext = ".sql";
  if (file.size() < 3 + 1 + 1 + ext.size() || !file.ends_with(ext)) return false;
  for (std::size_t i = 0; i < 3; ++i)
    if (file[i] < '0' || file[i] > '9') return false;
  if (file[3] != '_') return false;
  const std::string_view rest = file.substr(4, file.size() - 4 - ext.size());
  if (!valid_name_part(rest)) return false;
  version = (file[0] - '0') * 100 + (file[1] - '0') * 10 + (file[2] - '0');
  name = std::string(rest);
  return version >= 1;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

// Takes the lock, creates schema_version if needed and returns the highest applied version.
int lock_and_read_version(pqxx::work& tx) {
  tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kLockKey) + ")");
  if (tx.exec("SELECT to_regclass('schema_version') IS NULL")[0][0].as<bool>()) {
    tx.exec(
        "CREATE TABLE schema_version ("
        " version int PRIMARY KEY,"
        " name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
  }
  return tx.exec("SELECT coalesce(max(version), 0) FROM schema_version")[0][0].as<int>();
}

std::string newer_schema_error(int db_version, int newest_file, const std::filesystem::path& dir) {
  return fmt::format(
      "the database schema is at version {}, newer than the newest migration file ({:03d}) in {}:"
      " this salond is older than the database it is pointed at; refusing to start",
      db_version, newest_file, dir.string());
}

// Applies one file in its own transaction. Returns false when another salond got there first.
bool apply_file(pqxx::connection_base& conn, const MigrationFile& f, int newest_file,
                const std::filesystem::path& dir, MigrationResult& result) {
  const std::string sql = read_file(f.path);
  pqxx::work tx(conn, "migration");
  // A migration may rewrite a large table: the connection's statement_timeout is not for it.
  tx.exec("SET LOCAL statement_timeout = 0");
  const int current = lock_and_read_version(tx);
  if (current > newest_file) {
    result.status = MigrationStatus::newer_schema;
    result.error = newer_schema_error(current, newest_file, dir);
    return false;
  }
  result.to_version = current;
  if (current >= f.version) return false;  // applied meanwhile by a concurrent salond
  if (sql.find_first_not_of(" \t\r\n") != std::string::npos) tx.exec(sql);
  tx.exec_params("INSERT INTO schema_version (version, name) VALUES ($1, $2)", f.version, f.name);
  tx.commit();
  result.to_version = f.version;
  result.applied.push_back(f.version);
  log::info("db", "applied migration {}", f.file_name());
  return true;
}

}  // namespace

MigrationListing list_migrations(const std::filesystem::path& dir) {
  MigrationListing out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    out.error = fmt::format("schema directory {} does not exist", dir.string());
    return out;
  }
  std::map<int, MigrationFile> by_version;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (!file.ends_with(".sql") || file.starts_with('.')) continue;
    MigrationFile f;
    if (!parse_file_name(file, f.version, f.name)) {
      out.error = fmt::format(
          "bad migration file name {} in {} (expected NNN_name.sql, NNN >= 001,"
          " name of a-z, 0-9, _)",
          file, dir.string());
      return out;
    }
    f.path = entry.path();
    const auto [it, inserted] = by_version.emplace(f.version, f);
    if (!inserted) {
      out.error = fmt::format("migration files {} and {} in {} have the same number",
                              std::min(it->second.file_name(), file),
                              std::max(it->second.file_name(), file), dir.string());
      return out;
    }
  }
  if (ec) {
    out.error = fmt::format("cannot list {}: {}", dir.string(), ec.message());
    return out;
  }
  for (auto& [version, f] : by_version)
    out.files.push_back(std::move(f));
  return out;
}

MigrationResult run_migrations(pqxx::connection_base& conn, const std::filesystem::path& dir) {
  MigrationResult result;
  MigrationListing listing = list_migrations(dir);
  if (!listing.error.empty()) {
    result.status = MigrationStatus::bad_files;
    result.error = listing.error;
    return result;
  }
  const int newest_file = listing.files.empty() ? 0 : listing.files.back().version;
  const MigrationFile* current_file = nullptr;
  try {
    {
      pqxx::work tx(conn, "migration");
      result.from_version = result.to_version = lock_and_read_version(tx);
      tx.commit();
    }
    if (result.from_version > newest_file) {
      result.status = MigrationStatus::newer_schema;
      result.error = newer_schema_error(result.from_version, newest_file, dir);
      return result;
    }
    for (const MigrationFile& f : listing.files) {
      if (f.version <= result.to_version) continue;
      current_file = &f;
      apply_file(conn, f, newest_file, dir, result);
      if (result.status != MigrationStatus::ok) return result;
    }
  } catch (const pqxx::broken_connection& e) {
    result.status = MigrationStatus::unavailable;
    result.error = "PostgreSQL connection lost during migrations: " + trimmed(e.what());
  } catch (const pqxx::in_doubt_error& e) {
    result.status = MigrationStatus::unavailable;  // the next run sees whether it committed
    result.error = "PostgreSQL connection lost while committing a migration: " + trimmed(e.what());
  } catch (const std::exception& e) {
    if (!conn.is_open()) {  // e.g. the server was shut down in the middle of a file
      result.status = MigrationStatus::unavailable;
      result.error = "PostgreSQL connection lost during migrations: " + trimmed(e.what());
      return result;
    }
    result.status = MigrationStatus::failed;
    result.file = current_file ? current_file->file_name() : std::string();
    result.error = current_file
                       ? fmt::format("migration {} failed: {}", result.file, trimmed(e.what()))
                       : "reading schema_version failed: " + trimmed(e.what());
  }
  return result;
}

std::filesystem::path default_schema_dir() {
  if (const char* env = std::getenv("SALON_SCHEMA_DIR"); env && *env) return env;
  return SALON_SCHEMA_DIR;
}

}  // namespace salon::db
