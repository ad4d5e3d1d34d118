// SPDX-License-Identifier: GPL-3.0-or-later
// Schema migrations: numbered SQL files `schemas/NNN_name.sql`, applied in number order, each in
// its own transaction together with its `schema_version` row, so a failing file leaves the
// database exactly as it was before that file. A transaction-scoped advisory lock serialises
// two salonds starting at once. Files must not contain BEGIN/COMMIT (or anything that cannot
// run inside a transaction, such as CREATE INDEX CONCURRENTLY).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace salon::db {

struct MigrationFile {
  int version = 0;   // NNN
  std::string name;  // "core" for 001_core.sql
  std::filesystem::path path;
  [[nodiscard]] std::string file_name() const { return path.filename().string(); }
};

// The files of a schema directory, validated and sorted by version; `error` is set (and files
// empty) when the directory is missing or a *.sql name is not NNN_name.sql (name: [a-z0-9_],
// version >= 1) or two files share a version. Other files (README, editor backups) are ignored.
struct MigrationListing {
  std::vector<MigrationFile> files;
  std::string error;
};
MigrationListing list_migrations(const std::filesystem::path& dir);

enum class MigrationStatus {
  ok,
  failed,        // a file's SQL failed: `file` and `error` say which and why (salond exits 3)
  newer_schema,  // the database has a version higher than any file (salond exits 3)
  bad_files,     // list_migrations() refused the directory (salond exits 3)
  unavailable,   // the connection broke: nothing is known to be wrong, retry later
};

struct MigrationResult {
  MigrationStatus status = MigrationStatus::ok;
  int from_version = 0;      // highest version applied before this run (0: none)
  int to_version = 0;        // highest version applied after it
  std::vector<int> applied;  // versions this run applied, in order
  std::string file;          // the failing file name (status failed)
  std::string error;         // a complete message, including file name and PostgreSQL's error

  [[nodiscard]] bool ok() const { return status == MigrationStatus::ok; }
  // A failure that retrying will not cure: salond must stop with exit code 3.
  [[nodiscard]] bool fatal() const { return !ok() && status != MigrationStatus::unavailable; }
};

// Applies every file in `dir` whose version is greater than the highest applied version.
// Never throws for database or file errors: they are reported in the result.
MigrationResult run_migrations(pqxx::connection_base& conn, const std::filesystem::path& dir);

// Where the schema files are: $SALON_SCHEMA_DIR if set, else the source tree's schemas/
// directory compiled in at build time.
std::filesystem::path default_schema_dir();

}  // namespace salon::db
