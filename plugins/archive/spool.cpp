// SPDX-License-Identifier: GPL-3.0-or-later
#include "spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

namespace salon::archive {
namespace {

void netstring(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
  out += ',';
}

// Reads one netstring at `pos`; false when the data is short or malformed.
bool read_netstring(std::string_view data, std::size_t& pos, std::string& out) {
  const auto colon = data.find(':', pos);
  if (colon == std::string_view::npos) return false;
  std::size_t n = 0;
  const auto [p, ec] = std::from_chars(data.data() + pos, data.data() + colon, n);
  if (ec != std::errc() || p != data.data() + colon) return false;
  if (n >= data.size() - colon - 1 || data[colon + 1 + n] != ',') return false;
  out.assign(data.substr(colon + 1, n));
  pos = colon + 1 + n + 1;
  return true;
}

std::optional<Row> decode_row(std::string_view payload) {
  std::string f[12];
  std::size_t pos = 0;
  for (auto& s : f)
    if (!read_netstring(payload, pos, s)) return std::nullopt;
  if (pos != payload.size()) return std::nullopt;
  Row r;
  try {
    r.room_id = std::stoll(f[0]);
    r.ts_us = std::stoll(f[2]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  r.stanza_id = f[1];
  r.kind = f[3] == "subject"      ? Kind::subject
           : f[3] == "correction" ? Kind::correction
           : f[3] == "retraction" ? Kind::retraction
                                  : Kind::message;
  r.nick = f[4];
  r.sender_jid = f[5];
  r.occupant_id = f[6];
  r.msg_id = f[7];
  r.has_body = f[8] == "1";
  r.body = f[9];
  r.stanza = f[10];
  r.replaces = f[11];
  return r;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::string encode_record(const Row& r) {
  std::string p;
  netstring(p, std::to_string(r.room_id));
  netstring(p, r.stanza_id);
  netstring(p, std::to_string(r.ts_us));
  netstring(p, to_string(r.kind));
  netstring(p, r.nick);
  netstring(p, r.sender_jid);
  netstring(p, r.occupant_id);
  netstring(p, r.msg_id);
  netstring(p, r.has_body ? "1" : "0");
  netstring(p, r.body);
  netstring(p, r.stanza);
  netstring(p, r.replaces);
  return std::to_string(p.size()) + "\n" + p + "\n";
}

std::vector<Row> decode_records(std::string_view data, std::size_t& consumed,
                                std::size_t max_rows) {
  std::vector<Row> rows;
  consumed = 0;
  std::size_t pos = 0;
  while (pos < data.size() && rows.size() < max_rows) {
    const auto nl = data.find('\n', pos);
    if (nl == std::string_view::npos) break;
    std::size_t n = 0;
    const auto [p, ec] = std::from_chars(data.data() + pos, data.data() + nl, n);
    if (ec != std::errc() || p != data.data() + nl) break;
    // n is compared, not added: a huge length wrapped the sum and framed what followed.
    if (n >= data.size() - nl - 1 || data[nl + 1 + n] != '\n') break;  // torn record
    auto row = decode_row(data.substr(nl + 1, n));
    if (!row) break;
    rows.push_back(std::move(*row));
    pos = nl + 1 + n + 1;
    consumed = pos;
  }
  return rows;
}

Spool::Spool(boost::asio::io_context& loop, std::filesystem::path dir)
    : loop_(loop), path_(std::move(dir) / "archive.spool") {
  std::filesystem::create_directories(path_.parent_path());
  std::error_code ec;
  const auto size = std::filesystem::file_size(path_, ec);
  file_size_ = ec ? 0 : size;
  bytes_ = file_size_;
}

Spool::~Spool() {
  thread_.join();
}

void Spool::append(std::shared_ptr<const std::vector<Row>> rows,
                   std::function<void(std::string)> done) {
  boost::asio::post(
      thread_, [this, rows, done = std::move(done), life = std::weak_ptr<int>(alive_)]() mutable {
        std::string data;
        for (const Row& r : *rows)
          data += encode_record(r);
        std::string error;
        const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
          error = errno_text("open " + path_.string());
        } else {
          if (!write_all(fd, data))
            error = errno_text("write " + path_.string());
          else if (::fsync(fd) != 0)
            error = errno_text("fsync " + path_.string());
          ::close(fd);
        }
        // A failed append may leave a torn record at the end: later records would sit behind
        // it, so cut the file back to where it was.
        if (!error.empty()) {
          if (::truncate(path_.c_str(), static_cast<off_t>(file_size_)) != 0) {
            error += "; " + errno_text("truncate");
          }
        } else {
          file_size_ += data.size();
        }
        const std::uint64_t remaining = file_size_ - replayed_;
        boost::asio::post(loop_, [this, life, remaining, error, done = std::move(done)] {
          if (!life.expired()) bytes_ = remaining;
          done(error);
        });
      });
}

void Spool::read(std::size_t max_rows,
                 std::function<void(std::vector<Row>, std::uint64_t, std::string)> done) {
  boost::asio::post(thread_, [this, max_rows, done = std::move(done)]() mutable {
    std::vector<Row> rows;
    std::string error;
    std::uint64_t end = replayed_;
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) error = errno_text("open " + path_.string());
    if (fd >= 0) {
      // Rows are at most a stanza (256 KiB by default) each: 4 MiB holds many.
      std::string buf(std::min<std::uint64_t>(file_size_ - replayed_, 4u << 20), '\0');
      const ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(replayed_));
      ::close(fd);
      if (n < 0) {
        error = errno_text("read " + path_.string());
      } else {
        buf.resize(static_cast<std::size_t>(n));
        std::size_t consumed = 0;
        rows = decode_records(buf, consumed, max_rows);
        end = replayed_ + consumed;
      }
    }
    boost::asio::post(loop_,
                      [rows = std::move(rows), end, error, done = std::move(done)]() mutable {
                        done(std::move(rows), end, error);
                      });
  });
}

void Spool::consumed(std::uint64_t end, std::function<void(std::string)> done) {
  boost::asio::post(
      thread_, [this, end, done = std::move(done), life = std::weak_ptr<int>(alive_)]() mutable {
        std::string error;
        replayed_ = end;
        if (replayed_ >= file_size_) {
          // Everything is in PostgreSQL: start the file afresh (a crash before this point only
          // means those rows are replayed again, which the INSERT ignores).
          if (::truncate(path_.c_str(), 0) != 0 && errno != ENOENT) {
            error = errno_text("truncate " + path_.string());
          } else {
            file_size_ = replayed_ = 0;
          }
        }
        const std::uint64_t remaining = file_size_ - replayed_;
        boost::asio::post(loop_, [this, life, remaining, error, done = std::move(done)] {
          if (!life.expired()) bytes_ = remaining;
          done(error);
        });
      });
}

}  // namespace salon::archive
