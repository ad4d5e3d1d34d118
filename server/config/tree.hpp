// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to salon_config: the parsed TOML document as a plain tree, so that validation
// (validate.cpp, reader.cpp) compiles without toml++. config.cpp converts toml++'s tree into it.
#pragma once

#include "config/config.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace salon::config::detail {

struct Member;

struct Node {
  enum class Kind { table, boolean, integer, floating, string, array, other };
  Kind kind = Kind::table;
  int line = 0;
  std::string type_name = "table";  // as said in messages: "expected integer, got string"
  bool boolean = false;
  std::int64_t integer = 0;
  double floating = 0;
  std::string string;
  std::vector<Node> items;      // array elements
  std::vector<Member> members;  // table members
};

struct Member {
  std::string key;
  int line = 0;  // the line of the key itself
  Node node;
};

// Collects every error; the one reported is the earliest in the file (see first()), so the
// answer does not depend on the order in which sections are checked.
class Errors {
public:
  // `missing`: a required key is absent (`line` is then its table's header, or 0).
  void add(std::string key, int line, std::string message, bool missing = false);
  [[nodiscard]] bool empty() const { return errors_.empty(); }
  [[nodiscard]] Error first() const;

private:
  struct Entry {
    Error error;
    bool missing;
  };
  std::vector<Entry> errors_;
};

// What every section reader shares: the error list and where relative *_file paths start
// (the config file's directory).
struct Context {
  Errors errors;
  std::filesystem::path base_dir;
};

// Reads one table of the schema: typed getters mark keys as known; finish() reports the rest
// as unknown. Values that fail a check are left at their defaults (the error is recorded).
class Section {
public:
  Section(const Node* table, std::string prefix, Context& context);

  [[nodiscard]] std::string dotted(std::string_view key) const;
  // The member (nullptr when absent); marks the key as known.
  const Member* find(std::string_view key);
  [[nodiscard]] int line() const { return table_ ? table_->line : 0; }
  [[nodiscard]] bool present() const { return table_ != nullptr; }

  // A nested table (nullptr when absent or of the wrong type, which is an error).
  const Node* table(std::string_view key);
  bool boolean(std::string_view key, bool& out);
  bool string(std::string_view key, std::string& out);
  // Integers within [min, max]; floats accept integers too and must be finite and > 0.
  bool integer(std::string_view key, std::int64_t min, std::int64_t max, std::int64_t& out);
  bool positive_ms(std::string_view key, std::chrono::milliseconds& out);
  bool positive_seconds(std::string_view key, std::chrono::seconds& out);
  bool positive_size(std::string_view key, std::size_t& out);
  bool positive_float(std::string_view key, double& out);
  bool port(std::string_view key, std::uint16_t& out);

  // Exactly one of NAME / NAME_env / NAME_file (those listed in `forms`) when `required`, at
  // most one otherwise. The value goes to `out`; it never appears in a message. Returns the line
  // of the key that provided it (0 when none).
  struct SecretForms {
    bool env = true;
    bool file = true;
  };
  int secret(std::string_view name, bool required, SecretForms forms, std::string& out);

  void error(std::string_view key, int line, std::string message);
  void missing(std::string_view key, std::string message);  // reported at the table's header
  void finish();                                            // every member not asked for is unknown

private:
  const Node* typed(std::string_view key, Node::Kind kind, std::string_view expected);
  void resolve_env(const Member& m, std::string_view key, std::string& out);
  void resolve_file(const Member& m, std::string_view key, std::string& out);

  const Node* table_;
  std::string prefix_;
  Context& context_;
  std::vector<std::string> known_;
};

// Builds the Config from the parsed tree (validate.cpp). `base_dir` resolves relative
// secret files.
Result build(const Node& root, const std::string& source_name,
             const std::filesystem::path& base_dir);

}  // namespace salon::config::detail
