// SPDX-License-Identifier: GPL-3.0-or-later
#include "smtp.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace salon::email {

std::string_view to_string(SmtpOutcome::Kind k) {
  switch (k) {
    case SmtpOutcome::Kind::sent: return "sent";
    case SmtpOutcome::Kind::temporary: return "temporary";
    case SmtpOutcome::Kind::permanent: return "permanent";
    case SmtpOutcome::Kind::in_doubt: return "in_doubt";
  }
  return "temporary";
}

void smtp_global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SmtpClient::Impl {
  Settings settings;
  CURL* curl = nullptr;

  // One transfer's state, reached from libcurl's callbacks.
  struct Transfer {
    const std::string* raw = nullptr;
    std::size_t offset = 0;
    const std::function<bool()>* before_last_byte = nullptr;
    bool last_byte_out = false;  // the end of DATA may have reached the server
    bool aborted = false;
    std::string last_reply;    // the server's last reply line
    std::string last_refusal;  // its last 4xx/5xx line (a QUIT's 221 follows a refusal)
  };

  static std::size_t read(char* buf, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t left = t->raw->size() - t->offset;
    const std::size_t k = std::min(size * n, left);
    // Before the chunk that completes the message leaves (whether or not libcurl asks again
    // for an EOF afterwards): until then the server cannot have the whole message.
    if (t->offset + k == t->raw->size() && !t->last_byte_out) {
      if (*t->before_last_byte && !(*t->before_last_byte)()) {
        t->aborted = true;
        return CURL_READFUNC_ABORT;
      }
      t->last_byte_out = true;
    }
    std::memcpy(buf, t->raw->data() + t->offset, k);
    t->offset += k;
    return k;
  }

  // The server's replies arrive as "header in" lines: keep the last for the record.
  static int debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
    if (type != CURLINFO_HEADER_IN) return 0;
    auto* t = static_cast<Transfer*>(user);
    std::string line(data, size);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
      line.pop_back();
    if (line.empty()) return 0;
    t->last_reply = line.substr(0, 500);
    if (line[0] == '4' || line[0] == '5') t->last_refusal = t->last_reply;
    return 0;
  }
};

SmtpClient::SmtpClient(const Settings& settings) : impl_(std::make_unique<Impl>()) {
  smtp_global_init();
  impl_->settings = settings;
  impl_->curl = curl_easy_init();
}

SmtpClient::~SmtpClient() {
  if (impl_->curl) curl_easy_cleanup(impl_->curl);
}

SmtpOutcome SmtpClient::send(const std::string& rcpt, const std::string& raw,
                             const std::function<bool()>& before_last_byte) {
  SmtpOutcome out;
  CURL* c = impl_->curl;
  if (!c) return {SmtpOutcome::Kind::temporary, 0, "libcurl could not be initialised"};
  const Settings& s = impl_->settings;
  Impl::Transfer t;
  t.raw = &raw;
  t.before_last_byte = &before_last_byte;
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_reset(c);  // keeps the connection cache: the next digest reuses the connection
  curl_slist* rcpts = curl_slist_append(nullptr, rcpt.c_str());
  curl_easy_setopt(c, CURLOPT_URL, s.smtp_url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, s.from_address.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &Impl::read);
  curl_easy_setopt(c, CURLOPT_READDATA, &t);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(raw.size()));
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, &Impl::debug);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, &t);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);  // feeds the debug callback; nothing is printed
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(s.send_timeout.count()));
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (s.smtp_tls == SmtpTls::starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, CURLUSESSL_ALL);
  if (!s.smtp_username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, s.smtp_username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, s.smtp_password.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(rcpts);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  out.code = static_cast<int>(code);
  out.reply = rc != CURLE_OK && !t.last_refusal.empty() ? t.last_refusal
              : !t.last_reply.empty()                   ? t.last_reply
              : errbuf[0]                               ? errbuf
                                                        : curl_easy_strerror(rc);
  if (rc == CURLE_OK) {
    out.kind = SmtpOutcome::Kind::sent;
  } else if (t.aborted) {
    out.kind = SmtpOutcome::Kind::temporary;
    out.reply = "aborted before the end of DATA: the attempt could not be recorded";
  } else if (code >= 500 && code < 600) {
    out.kind = SmtpOutcome::Kind::permanent;  // a definite refusal, even after DATA
  } else if (code >= 400 && code < 500) {
    out.kind = SmtpOutcome::Kind::temporary;  // a definite "not now", even after DATA
  } else if (t.last_byte_out) {
    out.kind = SmtpOutcome::Kind::in_doubt;  // no verdict after the whole message went out
  } else {
    out.kind = SmtpOutcome::Kind::temporary;  // connect, TLS or timeout before the end
  }
  if (rc != CURLE_OK && out.code == 0 && errbuf[0]) out.reply = errbuf;
  return out;
}

}  // namespace salon::email
