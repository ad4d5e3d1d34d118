// SPDX-License-Identifier: GPL-3.0-or-later
#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace salon::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// The value of a header (case-insensitive name) in a response head, empty when missing.
std::string_view header_value(std::string_view head, std::string_view name) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string_view line =
        head.substr(start, end == std::string_view::npos ? head.npos : end - start);
    const std::size_t colon = line.find(':');
    if (colon == name.size()) {
      bool same = true;
      for (std::size_t i = 0; i < colon && same; ++i)
        same = std::tolower(static_cast<unsigned char>(line[i])) ==
               std::tolower(static_cast<unsigned char>(name[i]));
      if (same) {
        std::string_view v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ')
          v.remove_prefix(1);
        return v;
      }
    }
    pos = end;
  }
  return {};
}
}  // namespace

HttpClient::HttpClient(asio::io_context& io, std::string host, std::uint16_t port,
                       std::string bearer_token)
    : io_(io), host_(std::move(host)), token_(std::move(bearer_token)), port_(port), socket_(io) {}

asio::awaitable<HttpResponse> HttpClient::request(std::string method, std::string target,
                                                  std::string json_body) {
  std::string req = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\n", method, target, host_, port_);
  if (!token_.empty()) req += fmt::format("Authorization: Bearer {}\r\n", token_);
  if (!json_body.empty() || method == "PUT" || method == "POST")
    req +=
        fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", json_body.size());
  req += "\r\n";
  req += json_body;
  // A kept-alive connection the server closed meanwhile fails at once: retry once, fresh.
  for (int attempt = 0; attempt < 2; ++attempt) {
    HttpResponse r = co_await exchange(req);
    if (r.status != 0) co_return r;
    boost::system::error_code ignore;
    socket_.close(ignore);
    buf_.clear();
    if (attempt == 1) co_return r;
  }
  co_return HttpResponse{};
}

asio::awaitable<HttpResponse> HttpClient::exchange(const std::string& req) {
  HttpResponse r;
  boost::system::error_code ec;
  auto tok = asio::redirect_error(asio::use_awaitable, ec);
  if (!socket_.is_open()) {
    co_await socket_.async_connect(tcp::endpoint(asio::ip::make_address(host_), port_), tok);
    if (ec) {
      r.error = "connect: " + ec.message();
      co_return r;
    }
    socket_.set_option(tcp::no_delay(true), ec);
  }
  co_await asio::async_write(socket_, asio::buffer(req), tok);
  if (ec) {
    r.error = "write: " + ec.message();
    co_return r;
  }
  const std::size_t head_len =
      co_await asio::async_read_until(socket_, asio::dynamic_buffer(buf_), "\r\n\r\n", tok);
  if (ec) {
    r.error = "read: " + ec.message();
    co_return r;
  }
  const std::string_view head(buf_.data(), head_len);
  const std::size_t sp = head.find(' ');
  if (sp == std::string_view::npos || head.size() < sp + 4) {
    r.error = "bad status line";
    co_return r;
  }
  std::from_chars(head.data() + sp + 1, head.data() + sp + 4, r.status);
  std::size_t length = 0;
  const std::string_view cl = header_value(head, "content-length");
  std::from_chars(cl.data(), cl.data() + cl.size(), length);
  const bool close = header_value(head, "connection") == "close";
  if (buf_.size() < head_len + length) {
    const std::size_t missing = head_len + length - buf_.size();
    const std::size_t old = buf_.size();
    buf_.resize(head_len + length);
    co_await asio::async_read(socket_, asio::buffer(buf_.data() + old, missing), tok);
    if (ec) {
      r.status = 0;
      r.error = "read body: " + ec.message();
      co_return r;
    }
  }
  r.body = buf_.substr(head_len, length);
  buf_.erase(0, head_len + length);
  if (close) {
    socket_.close(ec);
    buf_.clear();
  }
  co_return r;
}

}  // namespace salon::bench
