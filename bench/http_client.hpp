// SPDX-License-Identifier: GPL-3.0-or-later
// A small HTTP/1.1 client for salond's own API (loopback, keep-alive, Content-Length bodies
// only: what salond's server sends). One request at a time per client; the benchmark runs
// several clients to provision in parallel.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <utility>  // before Boost 1.74's awaitable.hpp, which uses std::exchange without it

#include <cstdint>
#include <string>
#include <string_view>

namespace salon::bench {

struct HttpResponse {
  int status = 0;  // 0: no answer (connection refused, closed, timed out)
  std::string body;
  std::string error;
};

class HttpClient {
public:
  HttpClient(boost::asio::io_context& io, std::string host, std::uint16_t port,
             std::string bearer_token = {});

  // Arguments are taken by value: the coroutine outlives the caller's temporaries.
  // Never throws: failures come back as status 0 with `error` set.
  boost::asio::awaitable<HttpResponse> request(std::string method, std::string target,
                                               std::string json_body = {});

private:
  boost::asio::awaitable<HttpResponse> exchange(const std::string& req);

  boost::asio::io_context& io_;
  std::string host_, token_;
  std::uint16_t port_;
  boost::asio::ip::tcp::socket socket_;
  std::string buf_;
};

}  // namespace salon::bench
