// SPDX-License-Identifier: GPL-3.0-or-later
// What plugin::Host does not offer: a plugin must not reach the whole configuration (the
// component secret, the API token), nor the link's raw sink (any 'from' it likes). Checked at
// compile time; the TEST only gives the checks a name in the test list.
#include <gtest/gtest.h>

#include "plugin/plugin.hpp"

namespace salon::plugin::test {
namespace {

template <typename H>
concept ExposesConfig = requires(const H& h) {
  h.config();
};

template <typename H>
concept ExposesSink = requires(H& h) {
  h.sink();
};

static_assert(!ExposesConfig<Host>, "a plugin gets its own section, not config::Config");
static_assert(!ExposesSink<Host>, "a plugin sends as its room, not through the raw StanzaSink");

TEST(HostSurface, NoWholeConfig) {
  SUCCEED();
}
TEST(HostSurface, NoRawSink) {
  SUCCEED();
}

}  // namespace
}  // namespace salon::plugin::test
