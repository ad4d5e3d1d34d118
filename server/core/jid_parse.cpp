// SPDX-License-Identifier: GPL-3.0-or-later
// Jid parsing with stringprep (nodeprep / nameprep / resourceprep, RFC 3920 profiles as libidn
// implements them: core/stringprep.hpp). The split into parts follows RFC 7622 §3.1 ourselves, so
// the rules are explicit: the resource is everything after the first '/', the localpart is what
// precedes an '@' before that. Results are cached per thread: stringprep is ~27% of per-stanza
// cost otherwise, and the same JIDs recur constantly.
#include <cctype>
#include <string>
#include <string_view>

#include "core/jid.hpp"
#include "core/jid_cache.hpp"
#include "core/stringprep.hpp"

namespace salon {

namespace {
constexpr std::size_t kMaxPart = 1023;  // RFC 7622 §3.2-3.4: each part at most 1023 octets

std::optional<Jid> parse_uncached(std::string_view s) {
  const auto slash = s.find('/');
  const std::string_view before = s.substr(0, slash);
  const std::string_view resource =
      slash == std::string_view::npos ? std::string_view() : s.substr(slash + 1);
  if (slash != std::string_view::npos && resource.empty()) return std::nullopt;
  const auto at = before.find('@');
  const std::string_view local =
      at == std::string_view::npos ? std::string_view() : before.substr(0, at);
  const std::string_view domain = at == std::string_view::npos ? before : before.substr(at + 1);
  if (at != std::string_view::npos && local.empty()) return std::nullopt;
  return Jid::from_parts(local, domain, resource);
}
}  // namespace

std::optional<std::string> Jid::nodeprep(std::string_view local) {
  if (local.empty() || local.size() > kMaxPart) return std::nullopt;
  auto p = stringprep::nodeprep(local);
  if (!p || p->empty() || p->size() > kMaxPart) return std::nullopt;
  return p;
}

std::optional<std::string> Jid::resourceprep(std::string_view resource) {
  if (resource.empty() || resource.size() > kMaxPart) return std::nullopt;
  auto p = stringprep::resourceprep(resource);
  if (!p || p->empty() || p->size() > kMaxPart) return std::nullopt;
  return p;
}

namespace {
// nameprep alone lets '@', spaces and other ASCII punctuation through ("a@b@host" would get
// the domain "b@host"). ASCII is limited to LDH labels, dots and IPv6 literals; non-ASCII
// (internationalised labels) is left to nameprep.
bool domain_ascii_ok(std::string_view domain) {
  for (const char ch : domain) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) continue;
    if (!(std::isalnum(c) || c == '-' || c == '.' || c == '[' || c == ']' || c == ':'))
      return false;
  }
  return true;
}
}  // namespace

std::optional<Jid> Jid::from_parts(std::string_view local, std::string_view domain,
                                   std::string_view resource) {
  if (domain.empty() || domain.size() > kMaxPart) return std::nullopt;
  if (!domain_ascii_ok(domain)) return std::nullopt;
  auto prepared = stringprep::nameprep(domain);
  if (!prepared || prepared->empty()) return std::nullopt;
  // Again after nameprep: it maps some characters to ASCII ones ("´" to a space and a
  // combining accent), and the prepared text must parse again.
  if (!domain_ascii_ok(*prepared)) return std::nullopt;
  std::string l, r;
  if (!local.empty()) {
    auto p = nodeprep(local);
    if (!p) return std::nullopt;
    l = std::move(*p);
  }
  if (!resource.empty()) {
    auto p = resourceprep(resource);
    if (!p) return std::nullopt;
    r = std::move(*p);
  }
  std::string d = std::move(*prepared);
  // A trailing dot names the same domain (RFC 7622 §3.2); strip it so comparisons work.
  if (d.size() > 1 && d.back() == '.') d.pop_back();
  // Labels are never empty: "b.." would otherwise become "b.", whose text is another JID.
  if (d.front() == '.' || d.back() == '.' || d.find("..") != std::string::npos) return std::nullopt;
  return Jid(std::move(l), std::move(d), std::move(r));
}

std::optional<Jid> Jid::parse(std::string_view s) {
  // Bounded by bytes, not count: a peer chooses what is parsed (core/jid_cache.hpp).
  thread_local JidCache cache(jid_cache_budget());
  if (const std::size_t b = jid_cache_budget(); b != cache.budget()) cache.set_budget(b);
  return cache.get(s, &parse_uncached);
}

}  // namespace salon
