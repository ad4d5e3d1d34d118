// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/element.hpp"

#include <gtest/gtest.h>

namespace salon {
namespace {

TEST(Element, SerialisesWithEscaping) {
  Element m("message");
  m.set_attr("to", "a@b/c'd");
  m.add_child("body").set_text("1 < 2 & \"x\"");
  EXPECT_EQ(m.xml(),
            "<message to='a@b/c&apos;d'><body>1 &lt; 2 &amp; &quot;x&quot;</body></message>");
}

TEST(XmlEscape, EveryCharacterAtEveryPosition) {
  EXPECT_EQ(xml_escape(""), "");
  EXPECT_EQ(xml_escape("plain caf\u00e9 \U0001F34D"), "plain caf\u00e9 \U0001F34D");
  EXPECT_EQ(xml_escape("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
  EXPECT_EQ(xml_escape("&a&"), "&amp;a&amp;");
  EXPECT_EQ(xml_escape("a<<b"), "a&lt;&lt;b");
  EXPECT_EQ(xml_escape(std::string_view("x\0y", 3)), std::string("x\0y", 3));
  std::string out = "kept:";
  append_xml_escaped(out, "'q'");
  EXPECT_EQ(out, "kept:&apos;q&apos;");
}

TEST(Element, EmptyElementIsSelfClosing) {
  EXPECT_EQ(Element("ping", "urn:xmpp:ping").xml(), "<ping xmlns='urn:xmpp:ping'/>");
}

TEST(Element, ChildLookupByNameAndNamespace) {
  Element m("message");
  m.add_child("x", "jabber:x:conference");
  m.add_child("x", "http://jabber.org/protocol/muc#user")
      .add_child("status")
      .set_attr("code", "110");
  ASSERT_NE(m.child("x", "http://jabber.org/protocol/muc#user"), nullptr);
  EXPECT_EQ(m.child("x")->xmlns(), "jabber:x:conference");  // empty xmlns matches any
  EXPECT_EQ(m.child("x", "nope"), nullptr);
  EXPECT_EQ(m.children_named("x").size(), 2u);
  EXPECT_EQ(m.child("x", "http://jabber.org/protocol/muc#user")->child("status")->attr("code"),
            "110");
}

TEST(Element, AttributesSetReplaceRemove) {
  Element e("iq");
  EXPECT_FALSE(e.has_attr("id"));
  EXPECT_EQ(e.attr("id"), "");
  e.set_attr("id", "1");
  e.set_attr("id", "2");
  EXPECT_EQ(e.attr("id"), "2");
  EXPECT_EQ(e.attrs().size(), 1u);
  e.remove_attr("id");
  EXPECT_FALSE(e.has_attr("id"));
}

TEST(Element, RemoveChildren) {
  Element m("message");
  m.add_child("stanza-id", "urn:xmpp:sid:0").set_attr("by", "room@x");
  m.add_child("stanza-id", "urn:xmpp:sid:0").set_attr("by", "other@x");
  m.add_child("body");
  EXPECT_EQ(m.remove_children_if([](const Element& c) {
    return c.is("stanza-id", "urn:xmpp:sid:0") && c.attr("by") == "room@x";
  }),
            1u);
  EXPECT_EQ(m.remove_children("body"), 1u);
  EXPECT_EQ(m.children().size(), 1u);
  EXPECT_EQ(m.child_text("body"), "");
}

}  // namespace
}  // namespace salon
