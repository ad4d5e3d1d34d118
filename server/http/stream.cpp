// SPDX-License-Identifier: GPL-3.0-or-later
// Streamed bodies: the response head, then one chunk at a time (chunked transfer encoding, or
// a close-delimited body for HTTP/1.0 clients), each flushed before its callback runs.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <array>
#include <atomic>

#include "core/log.hpp"
#include "http/session.hpp"

namespace salon::http {

// Shared by the copies of one ChunkWriter; destroyed without finish(), it aborts the body.
struct ChunkWriter::State {
  explicit State(std::shared_ptr<detail::Session> s) : session(std::move(s)) {}
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    auto& io = session->core().io;
    if (open.exchange(false)) {
      detail::net::dispatch(io, [s = std::move(session)] {
        s->stream_abort("the producer dropped its ChunkWriter without finish()");
      });
    } else if (!session->core().on_loop()) {
      // The session's destructor touches loop-owned state: release it there.
      detail::net::post(io, [s = std::move(session)] {});
    }
  }
  std::shared_ptr<detail::Session> session;
  std::atomic<bool> open{true};
};

namespace detail {
namespace {

struct StreamHead {
  bhttp::response<bhttp::empty_body> res;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> serializer;
};

// Runs a producer's callback; an exception from it must not unwind through the event loop.
bool notify(const std::function<void(bool)>& flushed, bool ok) {
  if (!flushed) return true;
  try {
    flushed(ok);
    return true;
  } catch (const std::exception& e) {
    log::error("http", "a streamed body's flushed callback threw: {}", e.what());
  } catch (...) {
    log::error("http", "a streamed body's flushed callback threw a non-exception");
  }
  return false;
}

void notify_later(net::io_context& io, std::function<void(bool)> flushed, bool ok) {
  if (flushed) net::post(io, [f = std::move(flushed), ok] { notify(f, ok); });
}

}  // namespace

void Session::start_stream(Response r) {
  phase_ = Phase::streaming;
  chunked_ = version_ >= 11;
  if (!chunked_) keep_alive_ = false;  // HTTP/1.0: the body ends when the connection does
  auto head = std::make_shared<StreamHead>();
  prepare(head->res, r);
  head->res.keep_alive(keep_alive_);
  if (chunked_) head->res.chunked(true);
  head->serializer.emplace(head->res);
  stream_.expires_after(core_->limits.io_timeout);
  bhttp::async_write_header(
      stream_, *head->serializer,
      [self = shared_from_this(), head, producer = std::move(r.stream)](
          error_code ec, std::size_t) mutable { self->on_stream_head(ec, std::move(producer)); });
}

void Session::on_stream_head(error_code ec, StreamBody producer) {
  if (phase_ == Phase::closed) return;
  if (ec) {
    log::debug("http", "{}: writing a response head failed: {}", remote_, ec.message());
    return close();
  }
  if (head_) return end_stream();  // HEAD: the head is the whole answer
  stream_.expires_never();         // no deadline while the producer works
  auto state = std::make_shared<ChunkWriter::State>(shared_from_this());
  writer_ = state;
  try {
    producer(ChunkWriter(state));
  } catch (const std::exception& e) {
    log::error("http", "{} {}: stream producer threw: {}", req_.method, req_.path, e.what());
    if (state->open.exchange(false)) stream_abort("the producer threw");
  }
}

void Session::stream_write(std::string chunk, std::function<void(bool)> flushed) {
  if (phase_ != Phase::streaming) return notify_later(core_->io, std::move(flushed), false);
  if (chunk.empty()) return notify_later(core_->io, std::move(flushed), true);
  OutChunk c;
  if (chunked_) {
    c.head = fmt::format("{:x}\r\n", chunk.size());
    c.tail = "\r\n";
  }
  c.data = std::move(chunk);
  c.flushed = std::move(flushed);
  out_.push_back(std::move(c));
  if (!writing_) write_next_chunk();
}

void Session::stream_finish() {
  if (phase_ != Phase::streaming) return;
  OutChunk c;
  c.last = true;
  if (chunked_) c.head = "0\r\n\r\n";
  out_.push_back(std::move(c));
  if (!writing_) write_next_chunk();
}

void Session::stream_abort(std::string_view why) {
  if (phase_ != Phase::streaming) return;
  log::error("http", "{} {} from {}: streamed body aborted: {}", req_.method, req_.path, remote_,
             why);
  close();
}

void Session::write_next_chunk() {
  writing_ = true;
  const OutChunk& c = out_.front();  // deque: stays put while later chunks are queued
  const std::array<net::const_buffer, 3> buffers{net::buffer(c.head), net::buffer(c.data),
                                                 net::buffer(c.tail.data(), c.tail.size())};
  stream_.expires_after(core_->limits.io_timeout);
  net::async_write(stream_, buffers, [self = shared_from_this()](error_code ec, std::size_t) {
    self->on_chunk_written(ec);
  });
}

void Session::on_chunk_written(error_code ec) {
  writing_ = false;
  if (phase_ == Phase::closed) return;  // close() has told the producer
  if (ec) {
    log::debug("http", "{}: streaming to the client failed: {}", remote_, ec.message());
    return close();
  }
  OutChunk c = std::move(out_.front());
  out_.pop_front();
  if (c.last) return end_stream();
  if (out_.empty()) stream_.expires_never();
  if (!notify(c.flushed, true)) return stream_abort("a flushed callback threw");
  if (phase_ == Phase::streaming && !writing_ && !out_.empty()) write_next_chunk();
}

void Session::end_stream() {
  if (auto w = writer_.lock()) w->open = false;
  writer_.reset();
  finish_request();
  phase_ = Phase::writing;
  after_response(!keep_alive_);
}

// The connection is gone: tell the producer (asynchronously, as always), and drop its
// callbacks so that a callback holding the ChunkWriter doesn't keep this session alive. The
// chunk being written stays in the queue: its buffers may still be referenced.
void Session::fail_chunks() {
  if (auto w = writer_.lock()) w->open = false;
  for (auto& c : out_)
    notify_later(core_->io, std::exchange(c.flushed, nullptr), false);
}

}  // namespace detail

ChunkWriter::ChunkWriter(std::shared_ptr<State> state) : state_(std::move(state)) {}

void ChunkWriter::write(std::string chunk, std::function<void(bool)> flushed) const {
  detail::net::dispatch(state_->session->core().io,
                        [s = state_, c = std::move(chunk), f = std::move(flushed)]() mutable {
                          if (!s->open)
                            return detail::notify_later(s->session->core().io, std::move(f), false);
                          s->session->stream_write(std::move(c), std::move(f));
                        });
}

void ChunkWriter::finish() const {
  detail::net::dispatch(state_->session->core().io, [s = state_] {
    if (s->open.exchange(false)) s->session->stream_finish();
  });
}

bool ChunkWriter::open() const {
  return state_ && state_->open.load();
}

}  // namespace salon::http
