// SPDX-License-Identifier: GPL-3.0-or-later
// salond's configuration: one TOML file (deploy/salon.example.toml documents every key).
// Parsing lives in config.cpp (toml++ is heavy: it stays in that one translation unit).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace salon::config {

enum class LogFormat { text, json };

struct Component {
  std::string domain;  // e.g. rooms.example.com
  std::string server_host = "127.0.0.1";
  std::uint16_t server_port = 5347;
  std::string secret;  // resolved from secret / secret_env / secret_file
  std::chrono::milliseconds keepalive_interval{10000};  // XEP-0199 ping to the server
  std::chrono::milliseconds keepalive_timeout{20000};   // no answer -> link declared dead
  std::chrono::milliseconds reconnect_initial{50};
  std::chrono::milliseconds reconnect_max{500};
  // Limits at the link, checked on the raw bytes before anything parses a stanza (a stanza
  // over one is answered with policy-violation). Live on reload.
  std::size_t max_stanza_bytes = std::size_t{512} * 1024;
  std::size_t max_stanza_depth = 32;  // at most 64: stored stanzas must parse again
  std::size_t max_stanza_attributes = 64;
  // What may wait to be written to the server; past it the server is not reading, and the
  // link is dropped and reconnected rather than grow without bound.
  std::size_t max_send_queue_bytes = std::size_t{64} * 1024 * 1024;
};

struct Database {
  std::string conninfo;  // libpq connection string (conninfo / conninfo_env)
  std::chrono::milliseconds health_interval{1000};
  std::chrono::milliseconds statement_timeout{30000};  // every statement but migrations
  std::size_t max_queued_queries = 10000;              // waiting for a reader thread
  // The journal's spool (server/journal/): "" = none, messages fail while PostgreSQL is away.
  std::string spool_dir;
};

struct Http {
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 8480;
  std::string api_token;  // api_token / api_token_env / api_token_file
};

struct Log {
  std::string level = "info";  // trace|debug|info|warn|error
  LogFormat format = LogFormat::text;
};

// Role mapping of the provisioning API: marketplace role -> MUC affiliation.
struct Muc {
  std::map<std::string, std::string> role_affiliations{
      {"client", "member"}, {"designer", "member"}, {"staff", "owner"}};
  bool members_can_change_subject = true;
  bool allow_private_messages = true;
  std::size_t max_stanza_bytes = std::size_t{256} * 1024;
  std::size_t max_body_chars = 10000;
  std::size_t max_occupants = 200;
  std::size_t max_nick_chars = 64;
  double messages_per_second = 10.0;  // per occupant, token bucket
  double message_burst = 20.0;
  std::chrono::seconds idle_unload{300};  // an empty room is unloaded after this
  // Presence fans out to every occupant (a 200-occupant room turns one update into 200
  // stanzas): its client payload is bounded, and updates, nick changes and rejoins are
  // rate-limited per user and room (a token bucket that outlives leave/join cycles).
  std::size_t max_presence_bytes = 8192;
  double presences_per_second = 1.0;
  double presence_burst = 10.0;
  // IQs forwarded to an occupant's resource wait for its answer (at most the forward
  // timeout): at most this many at once per requesting user and room, and per room.
  std::size_t max_forwarded_iqs_per_occupant = 32;
  std::size_t max_forwarded_iqs_per_room = 256;
  // Each thread's cache of parsed JIDs (stringprep is ~27% of a stanza's cost): its bytes.
  std::size_t jid_cache_bytes = std::size_t{8} * 1024 * 1024;
  // A room name the store does not know is answered from memory for this long (each stanza
  // to a new name would otherwise be a database query); provisioning the room ends it.
  std::chrono::milliseconds missing_room_cache{10000};
  std::size_t missing_room_cache_entries = 10000;
  // Stanzas to a room whose record is still being read wait for it, up to this many.
  std::size_t max_queued_while_loading = 256;
};

// A plugin setting as parsed from TOML (the core does not know plugin settings; each plugin
// validates its own keys and reports errors with the key's line).
using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;
struct Setting {
  Value value;
  int line = 0;
};

// A plugin's section: [plugins.<name>] with `enabled` plus the plugin's own keys.
struct PluginSection {
  bool enabled = false;
  int line = 0;                             // where the section starts, for errors
  std::map<std::string, Setting> settings;  // every key except `enabled`
  // The config file's directory: where a plugin's relative paths (*_file keys, template
  // directories) start.
  std::filesystem::path base_dir;
};

struct Config {
  std::string path;
  Component component;
  Database database;
  Http http;
  Log log;
  Muc muc;
  std::map<std::string, PluginSection> plugins;
};

// A configuration error: the key (dotted path), the line (0 when unknown) and what is wrong.
struct Error {
  std::string key;
  int line = 0;
  std::string message;
  [[nodiscard]] std::string str() const;  // "FILE:LINE: key 'a.b': message"
  std::string file;
};

struct Result {
  std::optional<Config> config;
  std::optional<Error> error;
};

// Loads and validates a file. Unknown keys are errors. Secrets referenced by *_env / *_file
// are resolved here; their values are never logged.
Result load_file(const std::string& path);
// Same, from a string (tests).
Result load_string(const std::string& toml, const std::string& source_name = "<string>");

// What a SIGHUP reload may change live, and what needs a restart: returns the dotted keys
// whose change requires a restart (domain, server address, secret, database, http listen).
std::vector<std::string> restart_required(const Config& running, const Config& reloaded);

}  // namespace salon::config
