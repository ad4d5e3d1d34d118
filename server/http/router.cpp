// SPDX-License-Identifier: GPL-3.0-or-later
#include "http/router.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace salon::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // the leading '/'
  for (;;) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void check_method(std::string_view method) {
  if (method.empty() || !std::all_of(method.begin(), method.end(), is_token_char))
    throw std::invalid_argument("bad HTTP method '" + std::string(method) + "'");
}

// True when a matches "more literally" than b: the first position where they differ has a
// literal in a. So /a/new beats /a/{id}, and /a/{id}/x beats /{s}/{id}/x.
bool more_specific(const Router::Route& a, const Router::Route& b) {
  return std::lexicographical_compare(a.is_param.begin(), a.is_param.end(), b.is_param.begin(),
                                      b.is_param.end());
}

bool path_matches(const Router::Route& r, const std::vector<std::string>& segs) {
  if (r.segments.size() != segs.size()) return false;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (r.is_param[i] ? segs[i].empty() : r.segments[i] != segs[i]) return false;
  }
  return true;
}

}  // namespace

void Router::add(std::string_view method, std::string_view pattern, Handler handler, Guard guard) {
  check_method(method);
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  if (!handler) throw std::invalid_argument("route " + std::string(pattern) + " has no handler");
  auto route = std::make_shared<Route>();
  route->method = std::string(method);
  route->pattern = std::string(pattern);
  route->handler = std::move(handler);
  route->guard = std::move(guard);
  std::set<std::string_view> names;
  for (std::string_view seg : split_path(pattern)) {
    const bool param = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    if (param) seg = seg.substr(1, seg.size() - 2);
    if (seg.find_first_of("{}?#") != std::string_view::npos ||
        (param && (seg.empty() || !names.insert(seg).second)))
      throw std::invalid_argument("malformed route pattern: " + std::string(pattern));
    route->segments.emplace_back(seg);
    route->is_param.push_back(param);
  }
  for (auto& existing : routes_) {
    if (existing->method == route->method && existing->pattern == route->pattern) {
      existing = std::move(route);
      return;
    }
  }
  routes_.push_back(std::move(route));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  if (path.empty() || path.front() != '/') {
    m.kind = Match::Kind::bad_path;
    return m;
  }
  std::vector<std::string> segs;
  for (std::string_view raw : split_path(path)) {
    auto decoded = url_decode(raw, false);
    if (!decoded) {
      m.kind = Match::Kind::bad_path;
      return m;
    }
    segs.push_back(std::move(*decoded));
  }

  std::set<std::string> allowed;
  const Route* best = nullptr;
  const Route* best_get = nullptr;  // HEAD falls back to GET
  for (const auto& r : routes_) {
    if (!path_matches(*r, segs)) continue;
    allowed.insert(r->method);
    if (r->method == "GET") allowed.insert("HEAD");
    const Route** slot = r->method == method                        ? &best
                         : (method == "HEAD" && r->method == "GET") ? &best_get
                                                                    : nullptr;
    if (slot && (!*slot || more_specific(*r, **slot))) *slot = r.get();
  }
  if (!best) best = best_get;
  if (!best) {
    m.kind = allowed.empty() ? Match::Kind::not_found : Match::Kind::method_not_allowed;
    for (const auto& a : allowed)
      m.allow += (m.allow.empty() ? "" : ", ") + a;
    return m;
  }
  for (const auto& r : routes_) {
    if (r.get() == best) m.route = r;
  }
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (best->is_param[i]) m.params[best->segments[i]] = std::move(segs[i]);
  }
  m.kind = Match::Kind::found;
  return m;
}

}  // namespace salon::http
