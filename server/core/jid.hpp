// SPDX-License-Identifier: GPL-3.0-or-later
// A validated, normalised JID (RFC 7622: nodeprep/nameprep/resourceprep). Parsing
// (core/jid_parse.cpp, on core/stringprep.hpp) is cached, because stringprep is a large share
// of per-stanza cost.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace salon {

class Jid {
public:
  Jid() = default;
  // Parses and normalises; std::nullopt when the string is not a valid JID (any part fails
  // its stringprep profile, or a part is empty/too long).
  static std::optional<Jid> parse(std::string_view s);
  // Builds from parts that are each prepared; nullopt if any is invalid.
  static std::optional<Jid> from_parts(std::string_view local, std::string_view domain,
                                       std::string_view resource = {});
  // Applies one stringprep profile to a single part (nullopt when it fails).
  static std::optional<std::string> nodeprep(std::string_view local);
  static std::optional<std::string> resourceprep(std::string_view resource);

  [[nodiscard]] const std::string& local() const { return local_; }
  [[nodiscard]] const std::string& domain() const { return domain_; }
  [[nodiscard]] const std::string& resource() const { return resource_; }
  [[nodiscard]] bool is_bare() const { return resource_.empty(); }
  [[nodiscard]] Jid bare() const { return Jid(local_, domain_, {}); }
  [[nodiscard]] Jid with_resource(std::string resource) const {
    return Jid(local_, domain_, std::move(resource));
  }
  [[nodiscard]] std::string bare_str() const;
  [[nodiscard]] std::string str() const;
  [[nodiscard]] bool empty() const { return domain_.empty(); }

  friend bool operator==(const Jid&, const Jid&) = default;
  friend auto operator<=>(const Jid&, const Jid&) = default;

private:
  Jid(std::string l, std::string d, std::string r)
      : local_(std::move(l)), domain_(std::move(d)), resource_(std::move(r)) {}
  std::string local_, domain_, resource_;
};

}  // namespace salon

template <>
struct std::hash<salon::Jid> {
  std::size_t operator()(const salon::Jid& j) const noexcept {
    return std::hash<std::string>{}(j.str());
  }
};
