// SPDX-License-Identifier: GPL-3.0-or-later
// Reading requests, routing, the Respond guard and whole responses (see session.hpp).
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/session.hpp"

namespace salon::http::detail {
namespace {

// Shared by the copies of one Respond: answers once, and 500 when dropped unanswered.
class Answer {
public:
  Answer(std::shared_ptr<Session> s, std::uint64_t seq, std::string what)
      : session_(std::move(s)), seq_(seq), what_(std::move(what)) {}
  Answer(const Answer&) = delete;
  Answer& operator=(const Answer&) = delete;
  ~Answer() {
    if (!answered_.exchange(true)) {
      log::error("http",
                 "{} from {}: the handler dropped its Respond without answering; "
                 "sending 500",
                 what_, session_->remote());
      deliver(problem(500, "Internal Server Error", "the request was not answered"));
    } else if (!session_->core().on_loop()) {
      // The session's destructor touches loop-owned state: release it there.
      auto& io = session_->core().io;  // before the move below
      net::post(io, [s = std::move(session_)] {});
    }
  }
  void give(Response r) {
    if (answered_.exchange(true)) {
      log::error("http", "{}: second answer (status {}) ignored", what_, r.status);
      return;
    }
    deliver(std::move(r));
  }
  [[nodiscard]] bool answered() const { return answered_.load(); }

private:
  void deliver(Response r) {
    net::dispatch(session_->core().io, [s = session_, seq = seq_, r = std::move(r)]() mutable {
      s->answer(seq, std::move(r));
    });
  }
  std::shared_ptr<Session> session_;
  std::uint64_t seq_;
  std::string what_;
  std::atomic<bool> answered_{false};
};

bool is_http_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category();
}

bool unsafe_field(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

void set_limits(RequestParser& parser, const Limits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
}

Request request_head(const bhttp::request<bhttp::string_body>& msg) {
  Request req;
  req.method = to_std(msg.method_string());
  const std::string target = to_std(msg.target());
  const auto q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) req.query = target.substr(q + 1);
  for (const auto& field : msg) {
    std::string name = to_std(field.name_string());
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto [it, fresh] = req.headers.try_emplace(std::move(name), to_std(field.value()));
    if (!fresh) it->second += ", " + to_std(field.value());
  }
  return req;
}

std::optional<Rejection> read_error_answer(error_code ec, const Limits& limits) {
  if (ec == bhttp::error::body_limit)
    return Rejection{413, "Content Too Large",
                     fmt::format("the request body exceeds {} bytes", limits.max_body_bytes)};
  if (ec == bhttp::error::header_limit)
    return Rejection{431, "Request Header Fields Too Large",
                     fmt::format("the request head exceeds {} bytes", limits.max_header_bytes)};
  if (is_http_error(ec) && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
    return Rejection{400, "Bad Request", "malformed HTTP request: " + ec.message()};
  return std::nullopt;
}

std::optional<Response> unrouted_answer(const Router::Match& m, const Request& req) {
  using Kind = Router::Match::Kind;
  if (m.kind == Kind::bad_path)
    return problem(400, "Bad Request", "the request target is not a valid path");
  if (m.kind == Kind::not_found) return problem(404, "Not Found", "no resource at " + req.path);
  if (m.kind == Kind::method_not_allowed) {
    auto r = problem(405, "Method Not Allowed",
                     req.method + " is not allowed on " + req.path + "; allowed: " + m.allow);
    r.headers.emplace_back("Allow", m.allow);
    return r;
  }
  return std::nullopt;
}

Session::Session(std::shared_ptr<Core> core, tcp::socket socket)
    : core_(std::move(core)), stream_(std::move(socket)) {
  error_code ec;
  const auto ep = stream_.socket().remote_endpoint(ec);
  remote_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  // Small writes (a chunk after its head) must not wait for Nagle.
  stream_.socket().set_option(tcp::no_delay(true), ec);
}

Session::~Session() {
  core_->connections.erase(this);
  core_->open_connections->fetch_sub(1);
}

void Session::start() {
  core_->connections[this] = weak_from_this();
  core_->open_connections->fetch_add(1);
  read_next();
}

void Session::close() {
  if (phase_ == Phase::closed) return;
  if (phase_ == Phase::writing || phase_ == Phase::streaming) finish_request();
  phase_ = Phase::closed;
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  fail_chunks();
}

void Session::read_next() {
  phase_ = Phase::reading;
  parser_.emplace();
  set_limits(*parser_, core_->limits);
  stream_.expires_after(core_->limits.io_timeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
}

void Session::on_header(error_code ec) {
  if (phase_ == Phase::closed) return;
  if (ec) return on_read_error(ec);
  const auto& h = parser_->get();
  begin_request(h);
  // Auth (and any other guard) before the body: a refused client never gets its upload read.
  if (match_.kind == Router::Match::Kind::found && match_.route->guard) {
    req_.params = match_.params;
    if (auto refused = match_.route->guard(req_)) {
      keep_alive_ = false;  // the unread body makes the rest of the connection unusable
      route_label_ = match_.route->pattern;
      phase_ = Phase::handling;
      return answer(seq_, *std::move(refused));
    }
  }
  if (h.version() >= 11 && !parser_->is_done() &&
      beast::iequals(h[bhttp::field::expect], "100-continue")) {
    // The client waits for this before sending the body (curl does for large bodies).
    static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(stream_, net::buffer(cont.data(), cont.size()),
                     [self = shared_from_this()](error_code wec, std::size_t) {
                       if (wec) return self->close();
                       if (self->phase_ != Phase::closed) self->read_body();
                     });
    return;
  }
  read_body();
}

void Session::read_body() {
  if (parser_->is_done()) return on_request();
  stream_.expires_after(core_->limits.io_timeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = shared_from_this()](error_code ec, std::size_t) {
                      if (self->phase_ == Phase::closed) return;
                      if (ec) return self->on_read_error(ec);
                      self->on_request();
                    });
}

void Session::on_read_error(error_code ec) {
  if (auto r = read_error_answer(ec, core_->limits)) return reject(*std::move(r));
  // Closed by the peer, reset, or timed out: nothing to answer.
  log::debug("http", "{}: connection ends: {}", remote_, ec.message());
  close();
}

// An error found while reading: answer it and close, since the rest of the input is unusable.
void Session::reject(Rejection r) {
  ++seq_;
  req_ = Request{};
  if (parser_ && parser_->is_header_done()) {
    req_.method = to_std(parser_->get().method_string());
    req_.path = to_std(parser_->get().target());
  }
  route_label_ = "invalid";
  started_ = std::chrono::steady_clock::now();
  recorded_ = false;
  version_ = 11;
  keep_alive_ = false;
  head_ = false;
  phase_ = Phase::handling;
  log::debug("http", "{}: {} {}", remote_, r.status, r.detail);
  answer(seq_, problem(r.status, r.title, r.detail));
}

// The request's head is in: everything but the body, and its route.
void Session::begin_request(const bhttp::request<bhttp::string_body>& msg) {
  ++seq_;
  req_ = request_head(msg);
  req_.remote = remote_;
  version_ = msg.version();
  keep_alive_ = msg.keep_alive();
  head_ = req_.method == "HEAD";
  started_ = std::chrono::steady_clock::now();
  recorded_ = false;
  match_ = core_->router.match(req_.method, req_.path);
}

void Session::on_request() {
  req_.body = std::move(parser_->release().body());
  phase_ = Phase::handling;
  stream_.expires_never();  // no deadline while the handler works

  auto m = std::move(match_);
  match_ = {};
  using Kind = Router::Match::Kind;
  route_label_ = m.kind == Kind::found      ? m.route->pattern
                 : m.kind == Kind::bad_path ? "invalid"
                                            : "unmatched";
  if (auto r = unrouted_answer(m, req_)) return answer(seq_, *std::move(r));
  req_.params = std::move(m.params);
  call_handler(m.route);
}

void Session::call_handler(const std::shared_ptr<const Router::Route>& route) {
  auto pending = std::make_shared<Answer>(shared_from_this(), seq_, req_.method + " " + req_.path);
  try {
    route->handler(req_, [pending](Response r) { pending->give(std::move(r)); });
  } catch (const std::exception& e) {
    log::error("http", "{} {}: handler threw: {}", req_.method, req_.path, e.what());
    if (!pending->answered())
      pending->give(problem(500, "Internal Server Error", "the handler failed"));
  } catch (...) {
    log::error("http", "{} {}: handler threw a non-exception", req_.method, req_.path);
    if (!pending->answered())
      pending->give(problem(500, "Internal Server Error", "the handler failed"));
  }
  // If the handler kept no copy of its Respond, the guard answers 500 right here.
}

void Session::answer(std::uint64_t seq, Response res) {
  if (phase_ != Phase::handling || seq != seq_) {
    log::debug("http", "{}: answer for a closed or finished request dropped", remote_);
    return;
  }
  if (res.status < 200 || res.status > 599) {
    log::error("http", "{} {}: handler answered with invalid status {}", req_.method, req_.path,
               res.status);
    res = problem(500, "Internal Server Error", "the handler answered with an invalid status");
  }
  if (res.stream && res.status != 204 && res.status != 304) return start_stream(std::move(res));
  write_response(std::move(res));
}

void Session::prepare(bhttp::response_header<>& msg, Response& r) {
  status_ = r.status;
  msg.version(version_);
  msg.result(static_cast<unsigned>(r.status));
  if (!r.content_type.empty()) msg.set(bhttp::field::content_type, r.content_type);
  msg.set(bhttp::field::cache_control, "no-store");
  // Browsers must take Content-Type as given (a JSON body is never sniffed into HTML).
  msg.set("X-Content-Type-Options", "nosniff");
  for (const auto& [name, value] : r.headers) {
    const auto f = bhttp::string_to_field(name);
    if (f == bhttp::field::content_length || f == bhttp::field::transfer_encoding ||
        f == bhttp::field::connection || unsafe_field(name) || unsafe_field(value) ||
        name.empty()) {
      log::error("http", "{} {}: response header '{}' ignored", req_.method, req_.path, name);
    } else if (f == bhttp::field::cache_control || f == bhttp::field::content_type) {
      msg.set(f, value);
    } else {
      msg.insert(name, value);
    }
  }
}

void Session::write_response(Response r) {
  phase_ = Phase::writing;
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
  prepare(*res, r);
  res->keep_alive(keep_alive_);
  if (r.status != 204 && r.status != 304) {  // those two never carry a body or its length
    const auto n = r.body.size();
    if (!head_) res->body() = std::move(r.body);
    res->content_length(n);
  }
  stream_.expires_after(core_->limits.io_timeout);
  bhttp::async_write(stream_, *res, [self = shared_from_this(), res](error_code ec, std::size_t) {
    if (self->phase_ == Phase::closed) return;
    self->finish_request();
    if (ec) {
      log::debug("http", "{}: write failed: {}", self->remote_, ec.message());
      return self->close();
    }
    self->after_response(res->need_eof());
  });
}

void Session::after_response(bool need_eof) {
  if (need_eof || core_->stopped) return linger_close();
  read_next();
}

void Session::finish_request() {
  if (recorded_) return;
  recorded_ = true;
  const auto took = std::chrono::steady_clock::now() - started_;
  core_->record(route_label_, status_, took);
  log::debug("http", "{} {} {} -> {} in {:.3f} ms", remote_, req_.method, req_.path, status_,
             std::chrono::duration<double, std::milli>(took).count());
}

// Closing with unread input makes the kernel send RST, which can destroy the response before
// the client reads it (e.g. a 413 while the body is still arriving). So: send FIN, read and
// discard for a short while, then close.
void Session::linger_close() {
  phase_ = Phase::closing;
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::min<std::chrono::steady_clock::duration>(core_->limits.io_timeout,
                                                                      std::chrono::seconds(2)));
  drain();
}

void Session::drain() {
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(16 * 1024),
                          [self = shared_from_this()](error_code ec, std::size_t) {
                            if (self->phase_ == Phase::closed) return;
                            if (ec) return self->close();
                            self->drain();
                          });
}

void serve(const std::shared_ptr<Core>& core, tcp::socket socket) {
  std::make_shared<Session>(core, std::move(socket))->start();
}

}  // namespace salon::http::detail
