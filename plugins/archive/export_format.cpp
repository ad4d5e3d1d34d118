// SPDX-License-Identifier: GPL-3.0-or-later
// Transcript formatting: JSON rows and an HTML table, every value escaped.
#include <fmt/format.h>

#include "core/element.hpp"
#include "core/stamp.hpp"
#include "core/text.hpp"
#include "export.hpp"

namespace salon::archive {

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  append_json_escaped(out, s, /*escape_lt=*/true);  // safe to embed in HTML
  return out;
}

std::string transcript_json_row(const TranscriptRow& r, bool first) {
  std::string out = first ? "\n" : ",\n";
  out += fmt::format(R"({{"id":"{}","time":"{}","kind":"{}","nick":"{}","jid":"{}")",
                     json_escape(r.stanza_id), format_stamp(r.ts_us), json_escape(r.kind),
                     json_escape(r.nick), json_escape(r.sender_jid));
  out += r.has_body ? ",\"body\":\"" + json_escape(r.body) + "\"" : ",\"body\":null";
  if (!r.replaces.empty()) out += ",\"replaces\":\"" + json_escape(r.replaces) + "\"";
  out += r.retracted ? ",\"retracted\":true}" : ",\"retracted\":false}";
  return out;
}

std::string transcript_html_head(std::string_view project, std::string_view name) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Transcript: " +
         xml_escape(name) + "</title></head>\n<body><h1>" + xml_escape(name) +
         "</h1>\n<p>Project " + xml_escape(project) +
         "</p>\n<table>\n<tr><th>Time (UTC)</th><th>Who</th><th>Message</th></tr>\n";
}

std::string transcript_html_row(const TranscriptRow& r) {
  std::string what;
  if (r.retracted)
    what = "<em>(retracted)</em>";
  else if (r.kind == "retraction")
    what = "<em>(retracted a message)</em>";
  else if (r.kind == "subject")
    what = "<em>(subject)</em> " + xml_escape(r.body);
  else
    what = xml_escape(r.body);
  if (r.kind == "correction") what = "<em>(correction)</em> " + what;
  return "<tr id=\"m-" + xml_escape(r.stanza_id) + "\"><td>" + format_stamp(r.ts_us) +
         "</td><td title=\"" + xml_escape(r.sender_jid) + "\">" + xml_escape(r.nick) + "</td><td>" +
         what + "</td></tr>\n";
}

}  // namespace salon::archive
