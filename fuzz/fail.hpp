// SPDX-License-Identifier: GPL-3.0-or-later
// A property a target checks did not hold: say which before aborting, so that a crash-* file
// comes with its reason (libFuzzer keeps the input and prints this above the stack).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace salon::fuzz {

[[noreturn]] inline void fail(const char* property) {
  std::fprintf(stderr, "\nproperty failed: %s\n", property);
  std::abort();
}

}  // namespace salon::fuzz
