// SPDX-License-Identifier: GPL-3.0-or-later
#include "xmpp/tag_convert.hpp"

namespace salon::xmpp {

Element to_element(const gloox::Tag& tag) {
  Element e(tag.prefix().empty() ? tag.name() : tag.prefix() + ":" + tag.name());
  for (const gloox::Tag::Attribute* a : tag.attributes()) {
    if (a->prefix().empty())
      e.set_attr(a->name(), a->value());
    else
      e.set_attr(a->prefix() + ":" + a->name(), a->value());
  }
  e.set_text(tag.cdata());
  for (const gloox::Tag* c : tag.children())
    e.add_child(to_element(*c));
  return e;
}

}  // namespace salon::xmpp
