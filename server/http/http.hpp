// SPDX-License-Identifier: GPL-3.0-or-later
// The HTTP layer: /healthz, /readyz, /metrics and the admin API (/api/v1/...), served by
// Boost.Beast on the daemon's single event loop. This header keeps Beast out (it is heavy to
// compile); Beast lives in session.cpp only.
//
// Contract for handlers:
//  - Handlers run on the event loop. They must not block; slow work goes to a worker thread
//    that later calls Respond (Respond and ChunkWriter may be called from any thread; they hand
//    off to the loop).
//  - Respond is called exactly once. A second call is ignored and logged. If every copy of it is
//    destroyed unanswered (a handler forgot, threw, or an async job was dropped), the client
//    gets 500 problem+json at once, like core/iq.hpp's IqResponder does for IQs.
//  - The Request is valid during the handler call only: copy what an async answer needs.
//  - A large body (e.g. a transcript) is streamed: respond with streamed(...); the producer gets a
//    ChunkWriter and writes the next chunk from the previous chunk's "flushed" callback, so a slow
//    client slows the producer instead of filling memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace salon {
class Metrics;
}

namespace salon::http {

struct Request {
  std::string method;                          // "GET", as sent (methods are case-sensitive)
  std::string path;                            // raw (still percent-encoded), without the query
  std::string query;                           // raw, without '?'
  std::map<std::string, std::string> headers;  // lower-case names; repeated fields joined by ", "
  std::string body;
  std::map<std::string, std::string> params;  // from {name} segments, percent-decoded
  std::string remote;                         // "127.0.0.1:54321"

  // The first value of a query parameter, percent-decoded ('+' is a space); "" when absent.
  [[nodiscard]] std::string query_param(std::string_view name) const;
  [[nodiscard]] bool has_query_param(std::string_view name) const;
  // A header by lower-case name; "" when absent.
  [[nodiscard]] std::string header(std::string_view lower_name) const;
};

class ChunkWriter;
// Produces a streamed body. Called on the loop once the response head has been sent.
using StreamBody = std::function<void(ChunkWriter)>;

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  // Extra fields. Framing fields (Content-Length, Transfer-Encoding, Connection) are the
  // server's and are ignored here; a Cache-Control given here replaces the default no-store.
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  StreamBody stream{};  // when set, `body` is ignored and the body is sent chunked
  // (Every member has a default initializer, so Response{200, "text/plain", {}, "ok"} compiles
  // under -Wextra's missing-field-initializers.)
};

// The writing end of a streamed body (chunked transfer encoding; plain close-delimited for
// HTTP/1.0 clients). A cheap copyable handle. write() queues one chunk; `flushed(true)` runs on
// the loop once it is written to the socket, `flushed(false)` when the connection failed or was
// closed (stop producing then). Produce the next chunk from that callback: that is the
// back-pressure. finish() ends the body (the connection is then reused if keep-alive). If every
// copy is destroyed without finish(), the connection is closed so the client sees a truncated
// body, never a complete-looking one. Empty chunks are skipped (an empty chunk would end the body).
class ChunkWriter {
public:
  struct State;  // defined next to the connection (session.cpp)
  explicit ChunkWriter(std::shared_ptr<State> state);

  void write(std::string chunk, std::function<void(bool flushed)> flushed = {}) const;
  void finish() const;
  // False once finished or once the connection is gone.
  [[nodiscard]] bool open() const;

private:
  std::shared_ptr<State> state_;
};

using Respond = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Respond)>;
// Runs as soon as a request's head has arrived, before its body is read, on a Request that has
// method, path, query, headers and params but no body. A Response returned here is sent at
// once and the body is never buffered: an unauthenticated client must not make salond read
// and hold a 1 MiB upload. nullopt lets the request through to the handler.
using Guard = std::function<std::optional<Response>(const Request&)>;

// application/problem+json (RFC 9457): {"type":"about:blank","title":..,"status":..,
// "detail":..,"field":..}; "field" names the offending input member and is left out when empty.
Response problem(int status, std::string_view title, std::string_view detail,
                 std::string_view field = {});
// application/json with the given (already serialised) body.
Response json(int status, std::string body);
// A streamed response; see ChunkWriter.
Response streamed(int status, std::string content_type, StreamBody producer);

// True when the request carries "Authorization: Bearer <token>" with exactly this token. The
// comparison is constant-time and leaks neither content nor length (SHA-256 both, then
// CRYPTO_memcmp). An empty configured token never matches.
[[nodiscard]] bool bearer_ok(const Request& req, std::string_view token);
// 401 problem+json with "WWW-Authenticate: Bearer realm="salon"".
Response unauthorized();
// The API's check: 503 when no token is configured (the API is disabled), 401 unless the
// request carries it; nullopt when it does.
std::optional<Response> check_bearer(const Request& req, std::string_view token);
// check_bearer as a route's Guard. `token` is read per request, so a reloaded token applies.
Guard bearer_guard(std::function<std::string()> token);

// Percent-decoding; nullopt on a malformed escape. With plus_is_space, '+' becomes ' '
// (application/x-www-form-urlencoded, i.e. query strings).
std::optional<std::string> url_decode(std::string_view in, bool plus_is_space);

struct Limits {
  std::size_t max_body_bytes = std::size_t{1024} * 1024;  // larger -> 413
  std::size_t max_header_bytes = std::size_t{16} * 1024;  // larger -> 431
  // Deadline for reading one request (including the idle wait before it on a kept-alive
  // connection) and for writing each response part.
  std::chrono::milliseconds io_timeout{30000};
  std::size_t max_connections = 10000;  // further connections are closed at once
};

class Server {
public:
  Server(boost::asio::io_context& io, Metrics& metrics, Limits limits = {});
  ~Server();  // stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // pattern: "/api/v1/projects/{id}": literal segments and whole-segment {name} parameters.
  // A literal segment wins over a parameter at the same position. HEAD falls back to GET.
  // Registering the same method and pattern again replaces the handler. Throws
  // std::invalid_argument on a malformed pattern. Call on the loop (or before it runs).
  // `guard` (optional) runs before the body is read; see Guard.
  void route(std::string_view method, std::string_view pattern, Handler handler, Guard guard = {});
  // Binds address (an IP literal) and port (0 = ephemeral) and starts accepting.
  // Returns the error text, or nullopt on success.
  std::optional<std::string> listen(const std::string& address, std::uint16_t port);
  [[nodiscard]] std::uint16_t port() const;  // the bound port (0 before listen)
  // Stops accepting and closes every connection; answers given afterwards are dropped.
  void stop();

private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace salon::http
