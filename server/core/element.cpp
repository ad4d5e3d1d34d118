// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/element.hpp"

#include <algorithm>
#include <array>

namespace salon {

namespace {
bool matches(const Element& e, std::string_view name, std::string_view xmlns) {
  return e.name() == name && (xmlns.empty() || e.xmlns() == xmlns);
}
}  // namespace

Element::Element(std::string name, std::string_view xmlns) : name_(std::move(name)) {
  if (!xmlns.empty()) attrs_.emplace_back("xmlns", std::string(xmlns));
}

std::string_view Element::attr(std::string_view key) const {
  for (const auto& [k, v] : attrs_)
    if (k == key) return v;
  return {};
}

bool Element::has_attr(std::string_view key) const {
  return std::any_of(attrs_.begin(), attrs_.end(), [&](const auto& kv) { return kv.first == key; });
}

Element& Element::set_attr(std::string_view key, std::string value) {
  for (auto& [k, v] : attrs_) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  attrs_.emplace_back(std::string(key), std::move(value));
  return *this;
}

void Element::remove_attr(std::string_view key) {
  std::erase_if(attrs_, [&](const auto& kv) { return kv.first == key; });
}

Element& Element::add_child(Element child) {
  return children_.emplace_back(std::move(child));
}

Element& Element::add_child(std::string name, std::string_view xmlns) {
  return children_.emplace_back(std::move(name), xmlns);
}

const Element* Element::child(std::string_view name, std::string_view xmlns) const {
  for (const auto& c : children_)
    if (matches(c, name, xmlns)) return &c;
  return nullptr;
}

Element* Element::child(std::string_view name, std::string_view xmlns) {
  for (auto& c : children_)
    if (matches(c, name, xmlns)) return &c;
  return nullptr;
}

std::vector<const Element*> Element::children_named(std::string_view name,
                                                    std::string_view xmlns) const {
  std::vector<const Element*> out;
  for (const auto& c : children_)
    if (matches(c, name, xmlns)) out.push_back(&c);
  return out;
}

std::string_view Element::child_text(std::string_view name, std::string_view xmlns) const {
  const Element* c = child(name, xmlns);
  return c ? std::string_view(c->text()) : std::string_view();
}

std::size_t Element::remove_children(std::string_view name, std::string_view xmlns) {
  return std::erase_if(children_, [&](const Element& c) { return matches(c, name, xmlns); });
}

std::size_t Element::remove_children_if(const std::function<bool(const Element&)>& pred) {
  return std::erase_if(children_, pred);
}

namespace {
// The five characters XML text and attribute values escape. A table lookup per character:
// string_view::find_first_of(set) runs a memchr over the set for every input character, and
// was ~10% of salond's CPU at 25,000 archived messages/s (bench/RESULTS.md).
constexpr std::array<bool, 256> kEscaped = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : std::string_view("&<>\"'"))
    t[c] = true;
  return t;
}();
}  // namespace

void append_xml_escaped(std::string& out, std::string_view in) {
  // Runs without special characters (nearly all text) are appended in one piece: this is on
  // every reflected message's path.
  std::size_t start = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (!kEscaped[static_cast<unsigned char>(in[i])]) continue;
    out.append(in, start, i - start);
    switch (in[i]) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += "&apos;"; break;
    }
    start = i + 1;
  }
  out.append(in, start);
}

std::string xml_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  append_xml_escaped(out, in);
  return out;
}

void Element::append_xml(std::string& out) const {
  out += '<';
  out += name_;
  for (const auto& [k, v] : attrs_) {
    out += ' ';
    out += k;
    out += "='";
    append_xml_escaped(out, v);
    out += '\'';
  }
  if (text_.empty() && children_.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  append_xml_escaped(out, text_);
  for (const auto& c : children_)
    c.append_xml(out);
  out += "</";
  out += name_;
  out += '>';
}

std::string Element::xml() const {
  std::string out;
  out.reserve(256);
  append_xml(out);
  return out;
}

}  // namespace salon
