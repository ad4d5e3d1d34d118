// SPDX-License-Identifier: GPL-3.0-or-later
// A small HTTP/1.1 client for the HTTP server's tests: real sockets, Beast's parser (so framing
// errors are caught), and a deadline on every operation so a broken server fails a test
// instead of hanging it. Beast stays in client.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salon::http::test {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Reply {
  int status = 0;
  unsigned version = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::size_t chunks = 0;  // chunks seen (chunked bodies), the terminating one excluded
  bool complete = false;   // a whole message was read
  std::string error;       // why not, when !complete
  [[nodiscard]] std::string header(const std::string& lower_name) const;
  [[nodiscard]] bool has(const std::string& lower_name) const {
    return headers.count(lower_name) != 0;
  }
};

class Client {
public:
  explicit Client(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Writes one request and reads its response.
  Reply request(std::string_view method, std::string_view target, std::string body = {},
                const Fields& fields = {}, unsigned version = 11);
  void write_request(std::string_view method, std::string_view target, std::string body = {},
                     const Fields& fields = {}, unsigned version = 11);
  void send_raw(std::string_view bytes);  // throws on failure
  // Reads one response (head_request: the request was HEAD, so no body follows).
  Reply read(bool head_request = false);
  // True when the server closes the connection (EOF or reset) before the deadline; false when
  // bytes arrive or the deadline passes.
  bool wait_closed();
  void close();
  // Caps the socket's receive buffer (SO_RCVBUF), e.g. to test back-pressure.
  void limit_receive_buffer(int bytes);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Opens n connections at once on one client loop, sends GET target on each, and returns every
// reply (in connection order).
std::vector<Reply> parallel_get(std::uint16_t port, std::string_view target, std::size_t n,
                                std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace salon::http::test
