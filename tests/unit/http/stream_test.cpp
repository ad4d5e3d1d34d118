// SPDX-License-Identifier: GPL-3.0-or-later
// Streamed bodies: chunked transfer encoding, back-pressure, aborts and client loss.
#include <atomic>
#include <climits>

#include "fixture.hpp"

namespace salon::http::test {
namespace {

using namespace std::chrono_literals;

// Writes chunk i+1 only from chunk i's flushed callback, as a transcript export would.
struct Producer : std::enable_shared_from_this<Producer> {
  Producer(int count, std::size_t chunk_bytes) : n(count), bytes(chunk_bytes) {}

  std::string chunk(int i) const {
    if (bytes == 0) return "line " + std::to_string(i) + "\n";
    return std::string(bytes, static_cast<char>('a' + i % 26));
  }
  void start(ChunkWriter w) {
    writer = std::move(w);
    step();
  }
  void step() {
    if (next == n) {
      writer->finish();
      writer.reset();
      return;
    }
    ++in_flight;
    max_in_flight = std::max(max_in_flight.load(), in_flight.load());
    writer->write(chunk(next++), [self = shared_from_this()](bool ok) {
      --self->in_flight;
      if (!ok) {
        self->failed = true;
        self->open_after_failure = self->writer->open();
        self->writer.reset();
        return;
      }
      ++self->flushed;
      self->step();
    });
  }

  const int n;
  const std::size_t bytes;
  int next = 0;  // loop thread only
  std::optional<ChunkWriter> writer;
  std::atomic<int> flushed{0}, in_flight{0}, max_in_flight{0};
  std::atomic<bool> failed{false}, open_after_failure{true};
};

class Streaming : public ServerTest {
protected:
  // Routes GET /stream to a fresh Producer(count, bytes); the last one is kept in `producer`.
  void stream_route(int count, std::size_t bytes) {
    server->route("GET", "/stream", [this, count, bytes](const Request&, Respond respond) {
      auto p = std::make_shared<Producer>(count, bytes);
      producer = p;
      ++producers_started;
      respond(streamed(200, "text/plain; charset=utf-8",
                       [p](ChunkWriter w) { p->start(std::move(w)); }));
    });
    start();
  }
  std::shared_ptr<Producer> last_producer() {
    std::shared_ptr<Producer> p;
    on_loop([&] { p = producer; });
    return p;
  }
  std::shared_ptr<Producer> producer;  // loop thread only
  std::atomic<int> producers_started{0};
};

TEST_F(Streaming, ManyChunksArriveInOrderWithOneInFlight) {
  constexpr int n = 10000;
  stream_route(n, 0);
  Client c(port, 60s);  // one read for the whole body: generous for sanitizer builds
  auto r = c.request("GET", "/stream");
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_FALSE(r.has("content-length"));
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.chunks, static_cast<std::size_t>(n));
  std::string expected;
  for (int i = 0; i < n; ++i)
    expected += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(r.body, expected);
  auto p = last_producer();
  EXPECT_EQ(p->flushed.load(), n);
  EXPECT_EQ(p->max_in_flight.load(), 1);
  EXPECT_FALSE(p->failed.load());
  // Keep-alive after a streamed body.
  auto again = c.request("GET", "/stream");
  EXPECT_EQ(again.body, expected);
  EXPECT_TRUE(eventually([&] {
    return metrics_text().find("salon_http_requests_total{route=\"/stream\",code=\"200\"} 2\n") !=
           std::string::npos;
  })) << metrics_text();
}

TEST_F(Streaming, ASlowReaderHoldsBackTheProducer) {
  // 16 MiB in all. The client's receive buffer is capped (which also stops the kernel from
  // growing it towards tcp_rmem's maximum), so what can sit in socket buffers is about
  // 256 KiB + the server's send buffer (tcp_wmem max, 4 MiB here): well under half.
  constexpr int n = 256;
  constexpr std::size_t chunk = 64 * 1024;
  stream_route(n, chunk);
  Client c(port, 60s);
  c.limit_receive_buffer(256 * 1024);
  c.write_request("GET", "/stream");
  ASSERT_TRUE(eventually([&] { return producers_started == 1; }));
  auto p = last_producer();
  // Wait until production stalls (nothing flushed for 300 ms) while nobody reads.
  int last = -1;
  auto since = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually(
      [&] {
        const int now = p->flushed;
        if (now != last) {
          last = now;
          since = std::chrono::steady_clock::now();
        }
        return std::chrono::steady_clock::now() - since > 300ms;
      },
      30s));
  EXPECT_GT(last, 0);
  EXPECT_LT(last, n / 2) << "the producer ran ahead of the client";
  auto r = c.read();
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.body.size(), n * chunk);
  EXPECT_EQ(r.chunks, static_cast<std::size_t>(n));
  EXPECT_EQ(r.body.substr(r.body.size() - chunk),
            std::string(chunk, static_cast<char>('a' + (n - 1) % 26)));
  EXPECT_EQ(p->flushed.load(), n);
}

TEST_F(Streaming, ClientGoneStopsTheProducer) {
  stream_route(INT_MAX, 16 * 1024);
  Client c(port);
  c.write_request("GET", "/stream");
  ASSERT_TRUE(eventually([&] { return producers_started == 1; }));
  auto p = last_producer();
  ASSERT_TRUE(eventually([&] { return p->flushed >= 10; }));
  c.close();
  EXPECT_TRUE(eventually([&] { return p->failed.load(); }));
  EXPECT_FALSE(p->open_after_failure.load());
}

TEST_F(Streaming, DroppedWriterTruncatesTheBody) {
  server->route("GET", "/drop", [](const Request&, Respond respond) {
    respond(streamed(200, "text/plain", [](ChunkWriter w) {
      w.write("partial", [w](bool) { /* and never finish() */ });
    }));
  });
  start();
  Client c(port);
  auto r = c.request("GET", "/drop");
  EXPECT_FALSE(r.complete);  // a truncated chunked body, never a complete-looking one
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "partial");
}

TEST_F(Streaming, ThrowingProducerTruncatesTheBody) {
  server->route("GET", "/throw", [](const Request&, Respond respond) {
    respond(streamed(200, "text/plain", [](ChunkWriter w) {
      w.write("x");
      throw std::runtime_error("db gone");
    }));
  });
  start();
  Client c(port);
  EXPECT_FALSE(c.request("GET", "/throw").complete);
}

TEST_F(Streaming, HeadSendsTheHeadOnly) {
  stream_route(5, 0);
  Client c(port);
  auto head = c.request("HEAD", "/stream");
  ASSERT_TRUE(head.complete) << head.error;
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(last_producer()->next, 0);  // never asked to produce
  EXPECT_EQ(c.request("GET", "/stream").body, "line 0\nline 1\nline 2\nline 3\nline 4\n");
}

TEST_F(Streaming, Http10GetsACloseDelimitedBody) {
  stream_route(3, 0);
  Client c(port);
  auto r = c.request("GET", "/stream", {}, {}, 10);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_FALSE(r.has("transfer-encoding"));
  EXPECT_EQ(r.body, "line 0\nline 1\nline 2\n");
}

TEST_F(Streaming, WriterUsedFromAWorkerThread) {
  server->route("GET", "/worker", [this](const Request&, Respond respond) {
    respond(streamed(200, "text/plain", [this](ChunkWriter w) {
      workers.emplace_back([w] {
        for (int i = 0; i < 100; ++i) {
          std::promise<bool> flushed;
          w.write(std::to_string(i) + ",", [&](bool ok) { flushed.set_value(ok); });
          if (!flushed.get_future().get()) return;
        }
        w.finish();
      });
    }));
  });
  start();
  Client c(port);
  auto r = c.request("GET", "/worker");
  ASSERT_TRUE(r.complete) << r.error;
  std::string expected;
  for (int i = 0; i < 100; ++i)
    expected += std::to_string(i) + ",";
  EXPECT_EQ(r.body, expected);
  EXPECT_EQ(r.chunks, 100u);
}

TEST_F(Streaming, EmptyChunksAreSkippedAndWritesAfterFinishFail) {
  std::atomic<int> empty_ok{0}, after_finish_failed{0};
  server->route("GET", "/edge", [&](const Request&, Respond respond) {
    respond(streamed(200, "text/plain", [&](ChunkWriter w) {
      w.write("", [&](bool ok) { empty_ok += ok; });
      w.write("a");
      w.write("b");  // queued without waiting: allowed, just not back-pressured
      w.finish();
      w.write("late", [&](bool ok) { after_finish_failed += !ok; });
    }));
  });
  start();
  Client c(port);
  auto r = c.request("GET", "/edge");
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.body, "ab");
  EXPECT_EQ(r.chunks, 2u);
  EXPECT_TRUE(eventually([&] { return empty_ok == 1 && after_finish_failed == 1; }));
}

}  // namespace
}  // namespace salon::http::test
