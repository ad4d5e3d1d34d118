// SPDX-License-Identifier: GPL-3.0-or-later
// gloox::Tag -> salon::Element. Prefixed names and attributes keep their prefix ("xml:lang").
#pragma once

#include <gloox/tag.h>

#include "core/element.hpp"

namespace salon::xmpp {

Element to_element(const gloox::Tag& tag);

}  // namespace salon::xmpp
