// SPDX-License-Identifier: GPL-3.0-or-later
// A real salon::http::Server on an ephemeral port, its io_context run by one loop thread (as
// in salond), and blocking test clients on the test thread.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "client.hpp"
#include "core/metrics.hpp"
#include "http/http.hpp"

namespace salon::http::test {

namespace net = boost::asio;

// Polls `cond` until it holds or the deadline passes.
inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return cond();
}

class ServerTest : public ::testing::Test {
protected:
  void SetUp() override { server = std::make_unique<Server>(io, metrics, limits()); }
  virtual Limits limits() { return {}; }

  // Registers routes first (SetUp/test body), then call this.
  void start() {
    const auto err = server->listen("127.0.0.1", 0);
    ASSERT_EQ(err, std::nullopt) << *err;
    port = server->port();
    ASSERT_NE(port, 0);
    loop = std::thread([this] { io.run(); });
  }

  void TearDown() override {
    if (loop.joinable()) {
      net::post(io, [this] { server->stop(); });
      work.reset();
      loop.join();
    }
    for (auto& t : workers)
      t.join();
    server.reset();
  }

  // Runs f on the loop thread and waits for it.
  void on_loop(std::function<void()> f) {
    std::promise<void> done;
    net::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  // Answers `r` after `delay`, from a timer on the loop (an async handler).
  void answer_later(Respond respond, Response r, std::chrono::milliseconds delay) {
    auto timer = std::make_shared<net::steady_timer>(io, delay);
    timer->async_wait(
        [timer, respond = std::move(respond), r = std::move(r)](auto) { respond(r); });
  }

  [[nodiscard]] std::string metrics_text() const { return metrics.render(); }

  Metrics metrics;  // declared before io: it must outlive everything on the loop
  net::io_context io;
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io);
  std::unique_ptr<Server> server;
  std::thread loop;
  std::vector<std::thread> workers;  // touched on the loop only; joined after it
  std::uint16_t port = 0;
};

}  // namespace salon::http::test
