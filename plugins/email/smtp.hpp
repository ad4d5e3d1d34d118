// SPDX-License-Identifier: GPL-3.0-or-later
// One SMTP transaction with libcurl, on the sender thread (never the event loop). The outcome
// says what the sender may do next: a temporary failure is retried, a permanent one never is,
// and one that happened after the message's last byte went out is in doubt (the server may
// have taken it: sending again could deliver it twice).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "settings.hpp"

namespace salon::email {

struct SmtpOutcome {
  enum class Kind { sent, temporary, permanent, in_doubt };
  Kind kind = Kind::sent;
  int code = 0;       // the last SMTP reply code (0: no reply, e.g. connection refused)
  std::string reply;  // the server's last reply line, or libcurl's error
};
std::string_view to_string(SmtpOutcome::Kind k);

class SmtpClient {
public:
  explicit SmtpClient(const Settings& settings);
  ~SmtpClient();
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  // Sends `raw` (CRLF lines, complete headers) to `rcpt`. `before_last_byte` runs on this
  // thread once every byte but the end of DATA is with the server, before the end is sent: the
  // last moment at which a crash certainly leaves the message undelivered. If it returns
  // false the transfer is aborted (a temporary failure).
  SmtpOutcome send(const std::string& rcpt, const std::string& raw,
                   const std::function<bool()>& before_last_byte);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Once per process, before any thread uses libcurl (curl_global_init is not thread-safe).
void smtp_global_init();

}  // namespace salon::email
