// SPDX-License-Identifier: GPL-3.0-or-later
// [plugins.email]: who gets a digest, when, through which SMTP server, with which templates.
// Every key, its default and its meaning: deploy/salon.example.toml; the schedule beside
// Synapse's and Zulip's: docs/EMAIL.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"

namespace salon::email {

enum class SmtpTls {
  starttls,  // smtp:// and STARTTLS required: a server without it is a failure, never plain
  implicit,  // smtps:// (TLS from the first byte)
  none,      // smtp:// in the clear (a local relay or a test sink); must be said explicitly
};

struct Settings {
  // SMTP
  std::string smtp_url = "smtp://127.0.0.1:25";
  SmtpTls smtp_tls = SmtpTls::starttls;
  std::string smtp_username;  // AUTH only when set
  std::string smtp_password;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds send_timeout{60000};
  std::string from_address;  // required
  std::string from_name = "salon";

  // When: a member's first missed message is due after `delay` (their own override wins);
  // after an email for a room, the next one for that room waits throttle[n] (n = emails
  // since the last quiet period, the last step repeating), reset after `throttle_reset`
  // without an email for that room.
  std::chrono::seconds delay{300};
  std::vector<std::chrono::seconds> throttle{std::chrono::minutes(15), std::chrono::hours(1),
                                             std::chrono::hours(4), std::chrono::hours(12)};
  std::chrono::seconds throttle_reset{std::chrono::hours(24)};

  // What: at most this many messages per project in an email ("and K more").
  std::size_t max_messages_per_room = 5;
  std::size_t max_excerpt_chars = 300;
  // Templates (digest.subject/.txt/.html.mustache); empty: the shipped ones (deploy/email/).
  std::filesystem::path templates_dir;
  // A link to the project page: "{project}" is replaced by the project id (URL-escaped).
  std::string project_url;
  // Where salond's HTTP listener is reachable from a mail client, for the unsubscribe link:
  // "https://chat.example.com" (the route is /email/unsubscribe).
  std::string public_url;
  // Signs the unsubscribe links (HMAC-SHA256). Changing it invalidates sent links.
  std::string link_secret;

  // Delivery: temporary failures retry with exponential backoff from retry_initial up to
  // retry_max, until give_up_after since the first attempt.
  std::chrono::seconds retry_initial{30};
  std::chrono::seconds retry_max{std::chrono::hours(1)};
  std::chrono::seconds give_up_after{std::chrono::hours(48)};
  std::chrono::milliseconds poll_interval{1000};
  std::size_t claim_batch = 20;  // members claimed per transaction
  // Sender threads, each with its own SMTP and PostgreSQL connection and its share of the
  // members (changing it needs a restart).
  std::size_t senders = 4;
};

// The settings, or an error naming the key and its line. Relative *_file paths and
// templates_dir start at the config file's directory (section.base_dir).
std::variant<Settings, std::string> read_settings(const config::PluginSection& section);

// A plain addr-spec (local@domain in printable ASCII, nothing that could end a header or add a
// recipient): the only addresses salond writes into an envelope or a header.
bool valid_address(std::string_view address);

// "90s", "15m", "4h", "2d" (a whole number and a unit); nullopt otherwise.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace salon::email
