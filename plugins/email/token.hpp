// SPDX-License-Identifier: GPL-3.0-or-later
// Signed unsubscribe links (RFC 8058 one-click): no login, so the link itself proves which
// member it is for. token = base64url(HMAC-SHA256(link_secret, "salon-unsubscribe/1\n" + jid)).
// A forged token, or one made for another member, does not verify.
#pragma once

#include <string>
#include <string_view>

namespace salon::email {

std::string unsubscribe_token(std::string_view secret, std::string_view bare_jid);
// Constant-time comparison with the token the secret gives for `bare_jid`.
bool unsubscribe_token_ok(std::string_view secret, std::string_view bare_jid,
                          std::string_view token);
// public_url + "/email/unsubscribe?jid=...&token=..." (both percent-encoded).
std::string unsubscribe_url(std::string_view public_url, std::string_view secret,
                            std::string_view bare_jid);
// RFC 3986 unreserved characters stay, every other byte becomes %XX.
std::string percent_encode(std::string_view s);

}  // namespace salon::email
