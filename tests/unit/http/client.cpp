// SPDX-License-Identifier: GPL-3.0-or-later
#include "client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>

namespace salon::http::test {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

std::string lower(beast::string_view s) {
  std::string out(s.data(), s.size());
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bhttp::request<bhttp::string_body> make_request(std::string_view method, std::string_view target,
                                                std::string body, const Fields& fields,
                                                unsigned version) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(version);
  req.set(bhttp::field::host, "127.0.0.1");
  for (const auto& [name, value] : fields)
    req.insert(name, value);
  req.body() = std::move(body);
  if (!req.body().empty() || method == "POST" || method == "PUT") req.prepare_payload();
  return req;
}

// One connection with a parser that records what a test wants to check.
struct Conn {
  Conn(net::io_context& ioc, std::uint16_t port, std::chrono::milliseconds t)
      : stream(ioc), timeout(t) {
    stream.expires_after(timeout);
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  void start_read(bool head_request, std::function<void()> done) {
    reply = Reply{};
    parser.emplace();
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    parser->skip(head_request);
    parser->on_chunk_header(on_chunk);
    stream.expires_after(timeout);
    bhttp::async_read(stream, buffer, *parser,
                      [this, done = std::move(done)](error_code ec, std::size_t) {
                        collect(ec);
                        done();
                      });
  }

  void collect(error_code ec) {
    if (parser->is_header_done()) {
      const auto& msg = parser->get();
      reply.status = static_cast<int>(msg.result_int());
      reply.version = msg.version();
      for (const auto& f : msg) {
        auto [it, fresh] =
            reply.headers.try_emplace(lower(f.name_string()), std::string(f.value()));
        if (!fresh) it->second += ", " + std::string(f.value());
      }
      reply.body = msg.body();
    }
    reply.complete = !ec;
    if (ec) reply.error = ec.message();
  }

  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;
  Reply reply;
  std::function<void(std::uint64_t, beast::string_view, error_code&)> on_chunk =
      [this](std::uint64_t size, beast::string_view, error_code&) {
        if (size > 0) ++reply.chunks;
      };
};

}  // namespace

std::string Reply::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

struct Client::Impl {
  Impl(std::uint16_t port, std::chrono::milliseconds timeout) : conn(ioc, port, timeout) {}
  void run() {
    ioc.restart();
    ioc.run();
  }
  net::io_context ioc;
  Conn conn;
};

Client::Client(std::uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(port, timeout)) {}

Client::~Client() = default;

Reply Client::request(std::string_view method, std::string_view target, std::string body,
                      const Fields& fields, unsigned version) {
  write_request(method, target, std::move(body), fields, version);
  return read(method == "HEAD");
}

void Client::write_request(std::string_view method, std::string_view target, std::string body,
                           const Fields& fields, unsigned version) {
  auto req = make_request(method, target, std::move(body), fields, version);
  impl_->conn.stream.expires_after(impl_->conn.timeout);
  bhttp::write(impl_->conn.stream, req);
}

void Client::send_raw(std::string_view bytes) {
  impl_->conn.stream.expires_after(impl_->conn.timeout);
  net::write(impl_->conn.stream, net::buffer(bytes.data(), bytes.size()));
}

Reply Client::read(bool head_request) {
  impl_->conn.start_read(head_request, [] {});
  impl_->run();
  return impl_->conn.reply;
}

bool Client::wait_closed() {
  auto& c = impl_->conn;
  if (c.buffer.size() > 0) return false;
  bool closed = false;
  c.stream.expires_after(c.timeout);
  c.stream.async_read_some(c.buffer.prepare(1), [&](error_code ec, std::size_t n) {
    closed = ec && ec != beast::error::timeout && n == 0;
  });
  impl_->run();
  return closed;
}

void Client::close() {
  error_code ignored;
  impl_->conn.stream.socket().close(ignored);
}

void Client::limit_receive_buffer(int bytes) {
  impl_->conn.stream.socket().set_option(net::socket_base::receive_buffer_size(bytes));
}

std::vector<Reply> parallel_get(std::uint16_t port, std::string_view target, std::size_t n,
                                std::chrono::milliseconds timeout) {
  net::io_context ioc;
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<bhttp::request<bhttp::string_body>> reqs;
  for (std::size_t i = 0; i < n; ++i) {
    conns.push_back(std::make_unique<Conn>(ioc, port, timeout));
    reqs.push_back(make_request("GET", target, {}, {}, 11));
  }
  for (std::size_t i = 0; i < n; ++i) {
    bhttp::async_write(conns[i]->stream, reqs[i], [c = conns[i].get()](error_code ec, std::size_t) {
      if (ec) {
        c->reply.error = "write: " + ec.message();
        return;
      }
      c->start_read(false, [] {});
    });
  }
  ioc.run();
  std::vector<Reply> out;
  for (auto& c : conns)
    out.push_back(c->reply);
  return out;
}

}  // namespace salon::http::test
