// SPDX-License-Identifier: GPL-3.0-or-later
// An XML element as salon's code sees stanzas: name, attributes, text, children.
// The wire layer (server/xmpp/) converts gloox tags to and from this type, so nothing outside
// server/xmpp/ depends on gloox. The namespace is kept as an ordinary "xmlns" attribute, as
// it appears on the wire.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salon {

class Element {
public:
  Element() = default;
  explicit Element(std::string name, std::string_view xmlns = {});

  [[nodiscard]] const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  [[nodiscard]] std::string_view xmlns() const { return attr("xmlns"); }
  [[nodiscard]] bool is(std::string_view name, std::string_view xmlns) const {
    return name_ == name && this->xmlns() == xmlns;
  }

  // Attributes. attr() returns "" for a missing attribute; has_attr() tells them apart.
  [[nodiscard]] std::string_view attr(std::string_view key) const;
  [[nodiscard]] bool has_attr(std::string_view key) const;
  Element& set_attr(std::string_view key, std::string value);
  void remove_attr(std::string_view key);
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& attrs() const {
    return attrs_;
  }

  // Character data directly inside this element (mixed content is kept as text + children).
  [[nodiscard]] const std::string& text() const { return text_; }
  Element& set_text(std::string text) {
    text_ = std::move(text);
    return *this;
  }

  // Children. An empty xmlns in a lookup matches any namespace.
  [[nodiscard]] const std::vector<Element>& children() const { return children_; }
  std::vector<Element>& children() { return children_; }
  Element& add_child(Element child);
  Element& add_child(std::string name, std::string_view xmlns = {});
  [[nodiscard]] const Element* child(std::string_view name, std::string_view xmlns = {}) const;
  Element* child(std::string_view name, std::string_view xmlns = {});
  [[nodiscard]] std::vector<const Element*> children_named(std::string_view name,
                                                           std::string_view xmlns = {}) const;
  // Text of the first matching child, "" when there is none.
  [[nodiscard]] std::string_view child_text(std::string_view name,
                                            std::string_view xmlns = {}) const;
  // Removes matching children; returns how many were removed.
  std::size_t remove_children(std::string_view name, std::string_view xmlns = {});
  std::size_t remove_children_if(const std::function<bool(const Element&)>& pred);

  // Serialises with XML escaping of text and attribute values.
  [[nodiscard]] std::string xml() const;
  void append_xml(std::string& out) const;

  friend bool operator==(const Element&, const Element&) = default;

private:
  std::string name_;
  std::vector<std::pair<std::string, std::string>> attrs_;
  std::string text_;
  std::vector<Element> children_;
};

// Escapes &, <, >, " and ' for use in XML text or attribute values.
void append_xml_escaped(std::string& out, std::string_view in);
std::string xml_escape(std::string_view in);

}  // namespace salon
