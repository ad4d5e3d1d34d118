#!/usr/bin/env python3
"""Tiny static server for the Converse.js demo page (loopback only).

    serve.py PORT CONFIG_JSON

Serves index.html/demo.js/demo.css from this directory, /config.json from CONFIG_JSON (written
by scripts/lib/web.sh: WebSocket URL, room, ...), and everything else from Converse.js's dist/
at the site root: Converse fetches some assets (e.g. its OMEMO worker) from the root.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import http.server
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DIST = os.path.join(HERE, "node_modules", "converse.js", "dist")
OWN = {"/": "index.html", "/index.html": "index.html", "/demo.js": "demo.js", "/demo.css": "demo.css"}


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".mjs": "text/javascript",
                      ".wasm": "application/wasm", ".json": "application/json"}

    def translate_path(self, path):
        path = path.split("?", 1)[0].split("#", 1)[0]
        if path == "/config.json":
            return CONFIG
        if path in OWN:
            return os.path.join(HERE, OWN[path])
        # Inside dist/ only: SimpleHTTPRequestHandler drops '..' segments itself.
        return super().translate_path(path)

    def end_headers(self):
        # The config changes with every stack; the page must never run with a stale one.
        if self.path.startswith("/config.json"):
            self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, fmt, *args):  # quiet: errors only
        if args and str(args[1] if len(args) > 1 else "").startswith(("4", "5")):
            super().log_message(fmt, *args)


if __name__ == "__main__":
    port, CONFIG = int(sys.argv[1]), os.path.abspath(sys.argv[2])
    if not os.path.isdir(DIST):
        sys.exit(f"serve.py: no {DIST}: run scripts/lib/npm_deps.sh first")
    os.chdir(DIST)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"serving http://127.0.0.1:{port}/", flush=True)
    server.serve_forever()
