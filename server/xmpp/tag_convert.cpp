// SPDX-License-Identifier: GPL-3.0-or-later
#include "xmpp/tag_convert.hpp"

#include <vector>

namespace salon::xmpp {

namespace {
Element shallow(const gloox::Tag& tag) {
  Element e(tag.prefix().empty() ? tag.name() : tag.prefix() + ":" + tag.name());
  for (const gloox::Tag::Attribute* a : tag.attributes()) {
    if (a->prefix().empty())
      e.set_attr(a->name(), a->value());
    else
      e.set_attr(a->prefix() + ":" + a->name(), a->value());
  }
  e.set_text(tag.cdata());
  return e;
}

struct Frame {
  Element element;
  gloox::TagList::const_iterator next;  // the next child of the tag to convert
  gloox::TagList::const_iterator end;
};
}  // namespace

// Without recursion: an explicit stack of the open elements (depth is bounded at the link by
// the framer, but a recursive walk once crashed salond on 30,000 levels, so no stack frames
// per level here either).
Element to_element(const gloox::Tag& tag) {
  std::vector<Frame> stack;
  stack.push_back({shallow(tag), tag.children().begin(), tag.children().end()});
  for (;;) {
    Frame& top = stack.back();
    if (top.next != top.end) {
      const gloox::Tag& child = **top.next++;
      stack.push_back({shallow(child), child.children().begin(), child.children().end()});
      continue;
    }
    Element done = std::move(top.element);
    stack.pop_back();
    if (stack.empty()) return done;
    stack.back().element.add_child(std::move(done));
  }
}

}  // namespace salon::xmpp
