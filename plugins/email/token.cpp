// SPDX-License-Identifier: GPL-3.0-or-later
#include "token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace salon::email {
namespace {

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(const unsigned char* data, std::size_t n) {
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < n; i += 3) {
    const unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6)
      out += kB64Url[(v >> shift) & 63];
  }
  if (i < n) {
    unsigned v = data[i] << 16;
    if (i + 1 < n) v |= data[i + 1] << 8;
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
    if (i + 1 < n) out += kB64Url[(v >> 6) & 63];
  }
  return out;
}

}  // namespace

std::string unsubscribe_token(std::string_view secret, std::string_view bare_jid) {
  std::string msg = "salon-unsubscribe/1\n";
  msg += bare_jid;
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac.data(), &len);
  return base64url(mac.data(), len);
}

bool unsubscribe_token_ok(std::string_view secret, std::string_view bare_jid,
                          std::string_view token) {
  const std::string want = unsubscribe_token(secret, bare_jid);
  return token.size() == want.size() && CRYPTO_memcmp(token.data(), want.data(), want.size()) == 0;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string unsubscribe_url(std::string_view public_url, std::string_view secret,
                            std::string_view bare_jid) {
  std::string url(public_url);
  url += "/email/unsubscribe?jid=";
  url += percent_encode(bare_jid);
  url += "&token=";
  url += unsubscribe_token(secret, bare_jid);
  return url;
}

}  // namespace salon::email
