// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to server/http, and heavy (Beast): included by session.cpp and stream.cpp only.
// One HTTP/1.1 connection: read a request, route it, let the handler answer (now or later),
// write the answer (whole in session.cpp, chunked in stream.cpp), and repeat while the client
// keeps the connection alive. Everything here runs on the event loop.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/detail.hpp"

namespace salon::http::detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

inline std::string to_std(beast::string_view s) {
  return std::string(s.data(), s.size());
}

// The steps from bytes to a routed request that need no socket; fuzz/http_request.cpp runs
// them on raw bytes exactly as a Session does.
using RequestParser = bhttp::request_parser<bhttp::string_body>;
void set_limits(RequestParser& parser, const Limits& limits);
// A request's head as handlers see it: method, path and query split at the first '?',
// header names lower-cased, repeated fields joined by ", ". No body, params or remote.
Request request_head(const bhttp::request<bhttp::string_body>& msg);
// What a failed read is answered with before the connection closes.
struct Rejection {
  int status;
  std::string_view title;
  std::string detail;
};
// nullopt when the connection just ends (closed by the peer, reset, timed out).
std::optional<Rejection> read_error_answer(error_code ec, const Limits& limits);
// The answer to a request that no route takes (bad path, 404, 405 with Allow); nullopt when
// the match found its route.
std::optional<Response> unrouted_answer(const Router::Match& m, const Request& req);

class Session final : public Connection, public std::enable_shared_from_this<Session> {
public:
  Session(std::shared_ptr<Core> core, tcp::socket socket);
  ~Session() override;
  void start();
  void close() override;

  [[nodiscard]] Core& core() { return *core_; }
  [[nodiscard]] const std::string& remote() const { return remote_; }
  // Called on the loop by the Respond of request number `seq`.
  void answer(std::uint64_t seq, Response res);
  // Called on the loop by a ChunkWriter (stream.cpp).
  void stream_write(std::string chunk, std::function<void(bool)> flushed);
  void stream_finish();
  void stream_abort(std::string_view why);

private:
  enum class Phase { reading, handling, writing, streaming, closing, closed };
  struct OutChunk {
    std::string head;  // "1a2b\r\n", or the whole last chunk
    std::string data;
    std::string_view tail;  // "\r\n" after data in chunked mode
    std::function<void(bool)> flushed;
    bool last = false;
  };

  void read_next();
  void on_header(error_code ec);
  void read_body();
  void on_read_error(error_code ec);
  void reject(Rejection r);
  void begin_request(const bhttp::request<bhttp::string_body>& msg);
  void on_request();
  void call_handler(const std::shared_ptr<const Router::Route>& route);
  // Status and fields shared by whole and streamed responses (not the framing).
  void prepare(bhttp::response_header<>& msg, Response& r);
  void write_response(Response r);
  void after_response(bool need_eof);
  // stream.cpp
  void start_stream(Response r);
  void on_stream_head(error_code ec, StreamBody producer);
  void write_next_chunk();
  void on_chunk_written(error_code ec);
  void end_stream();
  void fail_chunks();
  void finish_request();
  void linger_close();
  void drain();

  std::shared_ptr<Core> core_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string remote_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Phase phase_ = Phase::reading;
  // The request being served.
  Request req_;
  std::uint64_t seq_ = 0;
  std::string route_label_;
  Router::Match match_;  // of the request being read
  std::chrono::steady_clock::time_point started_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  int status_ = 0;
  bool recorded_ = false;
  // Streaming.
  bool chunked_ = false;
  std::deque<OutChunk> out_;
  bool writing_ = false;
  std::weak_ptr<ChunkWriter::State> writer_;
};

}  // namespace salon::http::detail
