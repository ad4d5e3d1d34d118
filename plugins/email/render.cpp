// SPDX-License-Identifier: GPL-3.0-or-later
#include "render.hpp"

#include <fmt/format.h>
#include <kainjow/mustache.hpp>

#include <charconv>
#include <ctime>
#include <fstream>
#include <sstream>

#include "token.hpp"

namespace salon::email {
namespace shipped {
extern const std::string_view subject;
extern const std::string_view text;
extern const std::string_view html;
}  // namespace shipped

namespace mst = kainjow::mustache;

namespace {

// kainjow reports "... at <offset>": the line of that offset, for --check-config.
std::string located(const std::string& file, const std::string& source, const std::string& error) {
  const auto at = error.rfind(" at ");
  std::size_t offset = 0;
  if (at != std::string::npos) {
    const char* p = error.data() + at + 4;
    std::from_chars(p, error.data() + error.size(), offset);
  }
  const std::size_t line =
      1 + static_cast<std::size_t>(std::count(
              source.begin(),
              source.begin() + static_cast<std::ptrdiff_t>(std::min(offset, source.size())), '\n'));
  return fmt::format("{}:{}: {}", file, line, error);
}

std::string hhmm(std::int64_t us) {
  const std::time_t t = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min);
}

std::string project_link(std::string_view pattern, std::string_view project) {
  std::string out(pattern);
  const std::string id = percent_encode(project);
  for (auto pos = out.find("{project}"); pos != std::string::npos;
       pos = out.find("{project}", pos + id.size()))
    out.replace(pos, 9, id);
  return out;
}

}  // namespace

std::size_t Digest::total() const {
  std::size_t n = 0;
  for (const auto& r : rooms)
    n += r.total;
  return n;
}

std::string excerpt(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0;
  bool space = false;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      space = !out.empty();
      ++i;
      continue;
    }
    if (chars + (space ? 1 : 0) >= max_chars) {
      out += "\xE2\x80\xA6";  // …
      return out;
    }
    if (space) {
      out += ' ';
      ++chars;
      space = false;
    }
    out.append(text.substr(i, std::min(n, text.size() - i)));
    ++chars;
    i += n;
  }
  return out;
}

struct Templates::Impl {
  mst::mustache subject, text, html;
  Impl(const std::string& s, const std::string& t, const std::string& h)
      : subject(s), text(t), html(h) {
    // Neither the subject nor the text part is HTML: {{x}} stays as written there.
    const auto verbatim = [](const std::string& v) { return v; };
    subject.set_custom_escape(verbatim);
    text.set_custom_escape(verbatim);
  }
};

Templates::Templates(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Templates::~Templates() = default;
Templates::Templates(Templates&&) noexcept = default;
Templates& Templates::operator=(Templates&&) noexcept = default;

std::variant<Templates, std::string> Templates::load(const std::filesystem::path& dir) {
  std::string src[3] = {std::string(shipped::subject), std::string(shipped::text),
                        std::string(shipped::html)};
  const char* names[3] = {"digest.subject.mustache", "digest.txt.mustache", "digest.html.mustache"};
  std::string where[3] = {names[0], names[1], names[2]};
  if (!dir.empty()) {
    for (int i = 0; i < 3; ++i) {
      const auto path = dir / names[i];
      std::ifstream in(path, std::ios::binary);
      if (!in) return fmt::format("{}: cannot read the template", path.string());
      std::ostringstream ss;
      ss << in.rdbuf();
      if (ss.str().size() > 1024 * 1024) return fmt::format("{}: larger than 1 MiB", path.string());
      src[i] = ss.str();
      where[i] = path.string();
    }
  }
  while (!src[0].empty() && (src[0].back() == '\n' || src[0].back() == '\r'))
    src[0].pop_back();  // an editor's final newline is not part of the subject
  auto impl = std::make_unique<Impl>(src[0], src[1], src[2]);
  const mst::mustache* t[3] = {&impl->subject, &impl->text, &impl->html};
  for (int i = 0; i < 3; ++i)
    if (!t[i]->is_valid()) return located(where[i], src[i], t[i]->error_message());
  return Templates(std::move(impl));
}

std::variant<Rendered, std::string> Templates::render(const Digest& d,
                                                      const RenderOptions& o) const {
  mst::data projects{mst::data::type::list};
  for (const auto& r : d.rooms) {
    mst::data messages{mst::data::type::list};
    for (const auto& m : r.messages) {
      mst::data msg;
      msg.set("nick", m.nick);
      msg.set("time", hhmm(m.at_us));
      msg.set("excerpt", excerpt(m.body, o.max_excerpt_chars));
      messages.push_back(msg);
    }
    mst::data p;
    p.set("name", r.name.empty() ? r.project : r.name);
    p.set("id", r.project);
    p.set("count", std::to_string(r.total));
    p.set("plural", r.total != 1);
    const std::size_t more = r.total > r.messages.size() ? r.total - r.messages.size() : 0;
    p.set("more", std::to_string(more));
    p.set("has_more", more > 0);
    const std::string url = o.project_url.empty() ? "" : project_link(o.project_url, r.project);
    p.set("url", url);
    p.set("has_url", !url.empty());
    p.set("messages", messages);
    projects.push_back(p);
  }
  mst::data top;
  const std::size_t total = d.total();
  top.set("name", d.name.empty() ? d.jid : d.name);
  top.set("jid", d.jid);
  top.set("total", std::to_string(total));
  top.set("plural", total != 1);
  top.set("project_count", std::to_string(d.rooms.size()));
  top.set("single_project", d.rooms.size() == 1);
  top.set("first_project_name",
          d.rooms.empty() ? "" : (d.rooms[0].name.empty() ? d.rooms[0].project : d.rooms[0].name));
  top.set("projects", projects);
  top.set("unsubscribe_url", o.unsubscribe_url);

  // kainjow's render() records errors in the template object: render copies, so this stays
  // const and safe to call from any thread.
  mst::mustache s = impl_->subject, t = impl_->text, h = impl_->html;
  Rendered out{s.render(top), t.render(top), h.render(top)};
  for (const mst::mustache* m : {&s, &t, &h})
    if (!m->is_valid()) return m->error_message();
  return out;
}

}  // namespace salon::email
