// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/uuid.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>

namespace salon {

namespace {
// Random bytes drawn from a buffer refilled 4 KiB at a time: one RAND_bytes call per message
// cost ~1.6 µs, ~8% of a reflected message's CPU. One pool per thread.
void random_bytes(unsigned char* out, std::size_t n) {
  static thread_local std::array<unsigned char, 4096> pool{};
  static thread_local std::size_t used = pool.size();
  if (pool.size() - used < n) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) {
      // OpenSSL's generator failing is close to impossible; ids need uniqueness, not secrecy.
      static thread_local std::mt19937_64 fallback{std::random_device{}()};
      for (auto& b : pool)
        b = static_cast<unsigned char>(fallback());
    }
    used = 0;
  }
  std::memcpy(out, pool.data() + used, n);
  used += n;
}

std::string canonical(const std::array<unsigned char, 16>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[b[i] >> 4];
    s += kHex[b[i] & 15];
  }
  return s;
}
}  // namespace

std::string uuid4() {
  std::array<unsigned char, 16> b{};
  random_bytes(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return canonical(b);
}

std::string uuid7(std::chrono::system_clock::time_point now) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch());
  const auto ms = static_cast<std::uint64_t>(us.count() / 1000);
  const auto sub_ms = static_cast<unsigned>(us.count() % 1000);  // 0..999 in rand_a's 12 bits
  std::array<unsigned char, 16> b{};
  random_bytes(b.data() + 8, 8);
  for (int i = 0; i < 6; ++i)
    b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | (sub_ms >> 8));  // version 7
  b[7] = static_cast<unsigned char>(sub_ms & 0xFF);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 9562 variant
  return canonical(b);
}

std::optional<std::chrono::system_clock::time_point> uuid7_time(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::array<unsigned char, 16> b{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    int v = 0;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else
      return std::nullopt;
    b[n / 2] = static_cast<unsigned char>(b[n / 2] | (n % 2 ? v : v << 4));
    ++n;
  }
  if ((b[6] >> 4) != 7 || (b[8] & 0xC0) != 0x80) return std::nullopt;
  std::uint64_t ms = 0;
  for (int i = 0; i < 6; ++i)
    ms = (ms << 8) | b[static_cast<std::size_t>(i)];
  const unsigned sub_ms = ((b[6] & 0x0Fu) << 8) | b[7];
  if (sub_ms > 999) return std::nullopt;  // not one of ours: rand_a holds random bits there
  return std::chrono::system_clock::time_point(
      std::chrono::microseconds(static_cast<std::int64_t>(ms * 1000 + sub_ms)));
}

}  // namespace salon
