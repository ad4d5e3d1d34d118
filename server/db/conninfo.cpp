// SPDX-License-Identifier: GPL-3.0-or-later
#include "db/conninfo.hpp"

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>

namespace salon::db {
namespace {

struct OptionsFree {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using OptionsPtr = std::unique_ptr<PQconninfoOption, OptionsFree>;

OptionsPtr parse(std::string_view conninfo) {
  char* err = nullptr;
  OptionsPtr opts(PQconninfoParse(std::string(conninfo).c_str(), &err));
  if (!opts) {
    std::string message = err ? err : "out of memory";
    PQfreemem(err);
    while (!message.empty() && message.back() == '\n')
      message.pop_back();
    throw std::invalid_argument("invalid PostgreSQL conninfo: " + message);
  }
  return opts;
}

// libpq keyword syntax: single quotes around the value, backslash escapes ' and \.
std::string quote(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string merge(std::string_view conninfo, const ConninfoOptions& extra, bool override) {
  const OptionsPtr opts = parse(conninfo);
  std::vector<std::pair<std::string, std::string>> values;
  for (const PQconninfoOption* o = opts.get(); o->keyword; ++o)
    if (o->val) values.emplace_back(o->keyword, o->val);
  for (const auto& [key, value] : extra) {
    bool known = false;
    for (const PQconninfoOption* o = opts.get(); o->keyword; ++o)
      known |= key == o->keyword;
    if (!known) throw std::invalid_argument("unknown PostgreSQL conninfo keyword: " + key);
    auto it = values.begin();
    while (it != values.end() && it->first != key)
      ++it;
    if (it == values.end())
      values.emplace_back(key, value);
    else if (override)
      it->second = value;
  }
  std::string out;
  for (const auto& [key, value] : values) {
    if (!out.empty()) out += ' ';
    out += key + "=" + quote(value);
  }
  return out;
}

}  // namespace

std::string conninfo_with(std::string_view conninfo, const ConninfoOptions& overrides) {
  return merge(conninfo, overrides, true);
}

std::string conninfo_with_defaults(std::string_view conninfo, const ConninfoOptions& defaults) {
  return merge(conninfo, defaults, false);
}

std::optional<std::string> conninfo_get(std::string_view conninfo, std::string_view keyword) {
  const OptionsPtr opts = parse(conninfo);
  for (const PQconninfoOption* o = opts.get(); o->keyword; ++o)
    if (keyword == o->keyword && o->val) return std::string(o->val);
  return std::nullopt;
}

}  // namespace salon::db
