// SPDX-License-Identifier: GPL-3.0-or-later
// Route table: "/api/v1/projects/{id}" style patterns -> handlers. No Beast here, so the
// matching rules are unit-testable on their own.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/http.hpp"

namespace salon::http {

class Router {
public:
  struct Route {
    std::string method;
    std::string pattern;                // as registered; the metrics label
    std::vector<std::string> segments;  // literal text, or the parameter name
    std::vector<bool> is_param;
    Handler handler;
    Guard guard;  // may be empty
  };

  struct Match {
    enum class Kind { found, not_found, method_not_allowed, bad_path };
    Kind kind = Kind::not_found;
    std::shared_ptr<const Route> route;         // when found
    std::map<std::string, std::string> params;  // when found
    std::string allow;                          // when method_not_allowed: "GET, HEAD, PUT"
  };

  // Throws std::invalid_argument on a malformed pattern (see Server::route).
  void add(std::string_view method, std::string_view pattern, Handler handler, Guard guard = {});
  // `path` is the raw request path (percent-encoded); segments are decoded after splitting,
  // so "%2F" stays inside its segment. A malformed escape gives bad_path.
  [[nodiscard]] Match match(std::string_view method, std::string_view path) const;
  [[nodiscard]] std::size_t size() const { return routes_.size(); }

private:
  std::vector<std::shared_ptr<const Route>> routes_;  // shared: a running handler survives add()
};

}  // namespace salon::http
