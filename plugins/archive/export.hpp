// SPDX-License-Identifier: GPL-3.0-or-later
// The archive's HTTP API (under /api/v1/, bearer auth by the core):
//   DELETE /api/v1/projects/{id}/messages             purge a room's archive (small batches)
//   GET    /api/v1/projects/{id}/transcript?format=json|html   the whole conversation, streamed
// Database work runs on the reader pool, a page at a time: a 100k-message room is never in
// memory at once, and a slow client slows the producer (ChunkWriter back-pressure).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plugin/plugin.hpp"

namespace salon::archive {

void add_http_routes(plugin::Host& host);

// One transcript row (pure formatting below is unit-tested).
struct TranscriptRow {
  std::int64_t id = 0;
  std::string stanza_id;
  std::int64_t ts_us = 0;
  std::string kind, nick, sender_jid, body, replaces;
  bool has_body = false;
  bool retracted = false;
};

std::string json_escape(std::string_view s);  // the inside of a JSON string
std::string transcript_json_row(const TranscriptRow& r, bool first);
std::string transcript_html_head(std::string_view project, std::string_view name);
std::string transcript_html_row(const TranscriptRow& r);

}  // namespace salon::archive
