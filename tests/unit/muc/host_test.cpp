// SPDX-License-Identifier: GPL-3.0-or-later
// What plugin::Host does not offer: a plugin must not reach the whole configuration (the
// component secret, the API token). Checked at compile time; the TEST only gives the checks
// a name in the test list.
#include <gtest/gtest.h>

#include "plugin/plugin.hpp"

namespace salon::plugin::test {
namespace {

template <typename H>
concept ExposesConfig = requires(const H& h) {
  h.config();
};

static_assert(!ExposesConfig<Host>, "a plugin gets its own section, not config::Config");

TEST(HostSurface, NoWholeConfig) {
  SUCCEED();
}

}  // namespace
}  // namespace salon::plugin::test
