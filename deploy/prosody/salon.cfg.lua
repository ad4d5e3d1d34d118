-- salon: route rooms.example.com to salond, the XEP-0114 component that serves the rooms.
--
-- Install: copy to /etc/prosody/conf.d/salon.cfg.lua (Debian's prosody.cfg.lua includes
-- conf.d/*.cfg.lua), replace the domain and the secret, then `prosodyctl reload`.
-- The secret must equal salond's [component] secret (salond.toml); keep this file 0640.
-- An included file starts in Prosody's global scope, so the two listener settings below are
-- global; drop them if your main config already sets component_ports/component_interface.
-- scripts/stack uses this same file for its private Prosody (domain, port, secret substituted).

-- The component port: salond runs on the same host, so it listens on loopback only.
component_ports = { 5347 }
component_interface = "127.0.0.1"

Component "rooms.example.com"
    component_secret = "CHANGE-ME-to-a-long-random-secret"
