// SPDX-License-Identifier: GPL-3.0-or-later
#include "journal/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/log.hpp"

namespace salon::journal {
namespace {

namespace fs = std::filesystem;

// A chunk always holds a whole record of the largest size, so every read makes progress.
constexpr std::size_t kChunk = kMaxRecord + 64;

std::string errno_text(const std::string& what) {
  // std::strerror is not thread-safe; the spool runs on its own thread.
  return what + ": " + std::generic_category().message(errno);
}

std::string fsync_dir(const fs::path& dir) {
  const fs::path d = dir.empty() ? fs::path(".") : dir;
  const int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_text("open " + d.string());
  std::string error;
  if (::fsync(fd) != 0) error = errno_text("fsync " + d.string());
  ::close(fd);
  return error;
}

// Creates `dir` and its missing parents, each new entry fsync'd in its parent: a spool
// directory made just before a power cut must still be there, with the spool file in it.
void make_dirs(const fs::path& dir) {
  if (dir.empty() || fs::is_directory(dir)) return;
  const fs::path parent = dir.parent_path();
  if (parent != dir) make_dirs(parent);
  if (!fs::create_directory(dir)) return;
  if (auto error = fsync_dir(parent); !error.empty()) throw std::runtime_error(error);
}

bool pwrite_all(int fd, std::string_view data, std::uint64_t at) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
    at += static_cast<std::uint64_t>(n);
  }
  return true;
}

// Reads up to buf.size() bytes at `at`; the buffer is shrunk to what the file had.
bool pread_all(int fd, std::string& buf, std::uint64_t at) {
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(at + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  buf.resize(got);
  return true;
}

// Opens the spool file for writing; a file created here gets its directory entry fsync'd.
int open_for_append(const fs::path& path, std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0 || errno != ENOENT) {
    if (fd < 0) error = errno_text("open " + path.string());
    return fd;
  }
  fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    error = errno_text("open " + path.string());
  else
    error = fsync_dir(path.parent_path());
  return fd;
}

}  // namespace

Spool::Spool(boost::asio::io_context& loop, std::filesystem::path dir, Counter* corrupt)
    : loop_(loop), path_(dir / "journal.spool"), corrupt_(corrupt) {
  make_dirs(path_.parent_path());
  std::error_code ec;
  const auto size = std::filesystem::file_size(path_, ec);
  file_size_ = ec ? 0 : size;
  bytes_ = file_size_;
  boost::asio::post(thread_, [this] { recover(); });
}

Spool::~Spool() {
  thread_.join();
}

// Runs first on the spool thread. Appends write at file_size_, so without this cut the next
// run's records would sit behind the torn one, and replay would have to skip it as damage.
void Spool::recover() {
  const int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  // On any failure file_size_ keeps the size the constructor saw: appends write there, and a
  // smaller guess would overwrite whole records.
  if (fd < 0) {
    if (errno != ENOENT)
      log::error("journal", "{}", errno_text("open " + path_.string()));
    else
      file_size_ = 0;
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    log::error("journal", "{}", errno_text("stat " + path_.string()));
    ::close(fd);
    return;
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::uint64_t pos = 0;
  bool torn = false;
  std::string buf;
  while (pos < size && !torn) {
    buf.resize(std::min<std::uint64_t>(size - pos, kChunk));
    if (!pread_all(fd, buf, pos) || buf.empty()) break;
    const SpoolChunk c = decode_spool(buf, pos + buf.size() >= size);
    torn = c.torn;
    pos += c.end;
    if (c.end == 0 && !torn) break;  // cannot happen (a chunk holds a whole record): no loop
  }
  file_size_ = torn ? pos : size;
  if (torn) {
    std::string error;
    if (::ftruncate(fd, static_cast<off_t>(pos)) != 0 || ::fsync(fd) != 0)
      error = errno_text("truncate " + path_.string());
    else
      error = fsync_dir(path_.parent_path());
    // Appends write at file_size_ all the same: the torn bytes are overwritten, not followed.
    if (!error.empty()) log::error("journal", "cutting a torn spool record: {}", error);
    log::warn("journal",
              "{}: cut {} bytes of a record torn by a crash at offset {} (its message "
              "was never reflected)",
              path_.string(), size - pos, pos);
  }
  ::close(fd);
  boost::asio::post(loop_, [this, life = std::weak_ptr<int>(alive_), n = file_size_] {
    if (!life.expired()) bytes_ = n;
  });
}

void Spool::append(Messages messages, std::function<void(std::string)> done) {
  boost::asio::post(thread_, [this, messages, done = std::move(done),
                              life = std::weak_ptr<int>(alive_)]() mutable {
    std::string data;
    std::string error;
    for (const SpooledMessage& m : *messages) {
      std::string rec = encode_record(m);
      if (rec.size() > kMaxRecord)
        error =
            "a message of " + std::to_string(rec.size()) + " bytes is larger than the spool takes";
      data += rec;
    }
    const int fd = error.empty() ? open_for_append(path_, error) : -1;
    if (fd >= 0) {
      if (error.empty() && !pwrite_all(fd, data, file_size_))
        error = errno_text("write " + path_.string());
      else if (error.empty() && ::fsync(fd) != 0)
        error = errno_text("fsync " + path_.string());
      // A failed append may leave a torn record: the next one overwrites it (it writes at
      // file_size_), and the cut keeps a restart from finding it.
      if (!error.empty() && ::ftruncate(fd, static_cast<off_t>(file_size_)) != 0)
        error += "; " + errno_text("truncate");
      ::close(fd);
    }
    if (error.empty()) file_size_ += data.size();
    const std::uint64_t remaining = file_size_ - replayed_;
    boost::asio::post(loop_, [this, life, remaining, error, done = std::move(done)] {
      if (!life.expired()) bytes_ = remaining;
      done(error);
    });
  });
}

void Spool::read(
    std::size_t max_messages,
    std::function<void(std::vector<SpooledMessage>, std::uint64_t, std::string)> done) {
  boost::asio::post(thread_, [this, max_messages, done = std::move(done)]() mutable {
    std::vector<SpooledMessage> messages;
    std::string error;
    std::uint64_t end = replayed_;
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) error = errno_text("open " + path_.string());
    if (fd >= 0) {
      const std::uint64_t remaining = file_size_ - replayed_;
      std::string buf(std::min<std::uint64_t>(remaining, kChunk), '\0');
      const bool ok = pread_all(fd, buf, replayed_);
      ::close(fd);
      if (!ok) {
        error = errno_text("read " + path_.string());
      } else {
        SpoolChunk c =
            decode_spool(buf, buf.size() < kChunk || buf.size() == remaining, max_messages);
        // Appends are whole and recover() cut the torn record: an incomplete one is damage.
        if (c.torn) c.corrupt.push_back({c.end, buf.size() - c.end}), c.end = buf.size();
        report_corrupt(buf, replayed_, c);
        messages = std::move(c.messages);
        end = replayed_ + c.end;
      }
    }
    boost::asio::post(
        loop_, [messages = std::move(messages), end, error, done = std::move(done)]() mutable {
          done(std::move(messages), end, error);
        });
  });
}

namespace {
// Appends `bytes` to the .corrupt file beside the spool (fsync'd); "" or why it failed.
std::string copy_aside(const fs::path& aside, std::string_view bytes) {
  std::string error;
  const int fd = ::open(aside.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || !pwrite_all(fd, bytes, 0) || ::fsync(fd) != 0)
    error = " (" + errno_text("copying them to " + aside.string()) + ")";
  if (fd >= 0) ::close(fd);
  return error;
}
}  // namespace

// Bad stretches are reported once each (a replay step that fails is read again) and copied
// to journal.spool.corrupt, which outlives the spool's truncation.
void Spool::report_corrupt(std::string_view chunk, std::uint64_t at, const SpoolChunk& c) {
  const fs::path aside = path_.string() + ".corrupt";
  for (const auto& s : c.corrupt) {
    if (at + s.offset < reported_) continue;
    reported_ = at + s.offset + s.size;
    if (corrupt_) corrupt_->inc();
    const std::string error = copy_aside(aside, chunk.substr(s.offset, s.size));
    log::error("journal",
               "{}: {} bytes at offset {} are not a whole record: skipped, the records after "
               "them are replayed; the bytes are appended to {}{}",
               path_.string(), s.size, at + s.offset, aside.string(), error);
  }
}

void Spool::set_aside(SpooledMessage message, std::string why) {
  boost::asio::post(thread_, [this, message = std::move(message), why = std::move(why)] {
    const fs::path aside = path_.string() + ".corrupt";
    if (corrupt_) corrupt_->inc();
    const std::string error = copy_aside(aside, encode_record(message));
    log::error("journal",
               "{}: a spooled message was refused on replay ({}): skipped, its record is "
               "appended to {}{}",
               path_.string(), why, aside.string(), error);
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
            file_size_ = replayed_ = reported_ = 0;
          }
        }
        const std::uint64_t remaining = file_size_ - replayed_;
        boost::asio::post(loop_, [this, life, remaining, error, done = std::move(done)] {
          if (!life.expired()) bytes_ = remaining;
          done(error);
        });
      });
}

}  // namespace salon::journal
