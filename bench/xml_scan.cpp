// SPDX-License-Identifier: GPL-3.0-or-later
#include "xml_scan.hpp"

#include <cstring>

namespace salon::bench {

namespace {
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Splits a start tag "<name attrs...>" (or "/>") into its name and attribute text.
void split_tag(std::string_view tag, std::string_view& name, std::string_view& head) {
  std::size_t i = 1;
  while (i < tag.size() && !is_space(tag[i]) && tag[i] != '/' && tag[i] != '>')
    ++i;
  name = tag.substr(1, i - 1);
  std::size_t end = tag.size() - 1;           // the '>'
  if (end > i && tag[end - 1] == '/') --end;  // self-closing
  head = end > i ? tag.substr(i, end - i) : std::string_view();
}
}  // namespace

std::string_view find_attr(std::string_view head, std::string_view key) {
  std::size_t i = 0;
  while (i < head.size()) {
    while (i < head.size() && is_space(head[i]))
      ++i;
    const std::size_t k = i;
    while (i < head.size() && head[i] != '=' && !is_space(head[i]))
      ++i;
    const std::string_view name = head.substr(k, i - k);
    while (i < head.size() && (is_space(head[i]) || head[i] == '='))
      ++i;
    if (i >= head.size()) break;
    const char q = head[i];
    if (q != '\'' && q != '"') break;
    const std::size_t v = ++i;
    while (i < head.size() && head[i] != q)
      ++i;
    if (name == key) return head.substr(v, i - v);
    ++i;
  }
  return {};
}

std::string_view Stanza::attr(std::string_view key) const {
  return find_attr(head, key);
}
std::string_view StreamHeader::attr(std::string_view key) const {
  return find_attr(head, key);
}

std::span<char> StanzaScanner::prepare(std::size_t min) {
  // Bytes before `keep` are consumed: move the rest to the front, then make room.
  const std::size_t keep = depth_ >= 2 ? stanza_start_ : pos_;
  if (keep > 0) {
    std::memmove(buf_.data(), buf_.data() + keep, end_ - keep);
    end_ -= keep;
    pos_ -= keep;
    if (depth_ >= 2) {
      stanza_start_ -= keep;
      head_start_ -= keep;
    }
  }
  if (buf_.size() - end_ < min) buf_.resize(std::max(buf_.size() * 2, end_ + min));
  return {buf_.data() + end_, buf_.size() - end_};
}

std::size_t StanzaScanner::tag_end(std::size_t lt) const {
  const char* b = buf_.data();
  char quote = 0;
  for (std::size_t i = lt + 1; i < end_; ++i) {
    const char c = b[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '>') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

Stanza StanzaScanner::view(std::size_t end) const {
  Stanza s;
  const char* b = buf_.data();
  s.raw = std::string_view(b + stanza_start_, end - stanza_start_);
  s.name = std::string_view(b + stanza_start_ + 1, name_len_);
  s.head = std::string_view(b + head_start_, head_len_);
  return s;
}

StanzaScanner::Event StanzaScanner::next(Stanza& stanza) {
  const char* b = buf_.data();
  for (;;) {
    if (pos_ >= end_) return Event::need_more;
    const void* hit = std::memchr(b + pos_, '<', end_ - pos_);
    if (!hit) {
      pos_ = end_;  // character data (or whitespace between stanzas)
      return Event::need_more;
    }
    const std::size_t lt = static_cast<std::size_t>(static_cast<const char*>(hit) - b);
    pos_ = lt;
    if (end_ - lt < 4) return Event::need_more;
    const std::string_view rest(b + lt, end_ - lt);
    if (rest.starts_with("<!--") || rest.starts_with("<![CDATA[")) {
      const std::string_view close = rest[2] == '-' ? "-->" : "]]>";
      const std::size_t e = rest.find(close, 4);
      if (e == std::string_view::npos) return Event::need_more;
      pos_ = lt + e + close.size();
      continue;
    }
    const std::size_t te = tag_end(lt);
    if (te == std::string_view::npos) return Event::need_more;
    pos_ = te;
    const std::string_view tag(b + lt, te - lt);
    if (tag[1] == '?' || tag[1] == '!') continue;  // XML declaration, doctype
    if (tag[1] == '/') {
      --depth_;
      if (depth_ == 1) {
        stanza = view(te);
        return Event::stanza;
      }
      if (depth_ <= 0) {
        depth_ = 0;
        return Event::stream_close;
      }
      continue;
    }
    const bool self_closing = tag[tag.size() - 2] == '/';
    std::string_view name, head;
    split_tag(tag, name, head);
    if (depth_ == 0) {
      header_.name.assign(name);
      header_.head.assign(head);
      if (!self_closing) depth_ = 1;
      return self_closing ? Event::stream_close : Event::stream_open;
    }
    if (depth_ == 1) {
      stanza_start_ = lt;
      name_len_ = name.size();
      head_start_ = static_cast<std::size_t>(head.data() - b);
      head_len_ = head.size();
      if (head.empty()) head_start_ = lt;
      if (self_closing) {
        stanza = view(te);
        return Event::stanza;
      }
    }
    if (!self_closing) ++depth_;
  }
}

}  // namespace salon::bench
