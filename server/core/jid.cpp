// SPDX-License-Identifier: GPL-3.0-or-later
// Jid methods that need no stringprep. Parsing is in core/jid_parse.cpp.
#include "core/jid.hpp"

namespace salon {

std::string Jid::bare_str() const {
  if (local_.empty()) return domain_;
  std::string s;
  s.reserve(local_.size() + 1 + domain_.size());
  s += local_;
  s += '@';
  s += domain_;
  return s;
}

std::string Jid::str() const {
  std::string s = bare_str();
  if (!resource_.empty()) {
    s += '/';
    s += resource_;
  }
  return s;
}

}  // namespace salon
