#!/usr/bin/python3
"""The layout is the architecture (docs/ARCHITECTURE.md): which folder may include which.

Checks every #include "..." in server/ and plugins/ against the table below and prints one line
per violation (exit 1). gloox may be included in server/xmpp/ only; the core knows no plugin;
a plugin reaches the core only through the plugin interface and the shared libraries, and
another plugin only through the header of a service it depends() on.

Usage: deps_check.py [ROOT]   (scripts/lint runs it)
SPDX-License-Identifier: GPL-3.0-or-later
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

# Folder under server/ -> the server folders its files may include ("dir/file.hpp").
SERVER = {
    "core": {"core"},
    "xmpp": {"core", "xmpp"},
    "config": {"core", "config"},
    "http": {"core", "http"},
    "db": {"core", "db"},
    "journal": {"core", "db", "journal"},
    "plugin": {"core", "plugin"},
    "muc": {"core", "config", "db", "http", "journal", "muc", "plugin"},
    "store": {"core", "db", "muc", "store"},
    "api": {"api", "config", "core", "http", "muc"},
    "app": {"api", "app", "config", "core", "db", "http", "journal", "muc", "plugin", "store",
            "xmpp"},
}
# What a plugin may include from server/.
PLUGIN_MAY = {"config", "core", "db", "http", "journal", "plugin"}
# Headers of services plugins provide to each other (provides()/depends()).
SERVICE_HEADERS = {"markers/read_state.hpp"}

INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^">]+)[">]', re.M)


def check(root: Path) -> list[str]:
    bad: list[str] = []
    server_dirs = {p.name for p in (root / "server").iterdir() if p.is_dir()}
    for path in sorted((root / "server").rglob("*")) + sorted((root / "plugins").rglob("*")):
        if path.suffix not in (".cpp", ".hpp") or "/tests/" in str(path.relative_to(root)):
            continue
        rel = path.relative_to(root)
        top, area = rel.parts[0], rel.parts[1]
        for kind, inc in INCLUDE.findall(path.read_text(errors="replace")):
            close = ">" if kind == "<" else '"'
            where = f"{rel}: #include {kind}{inc}{close}"
            if kind == "<":
                if inc.startswith("gloox/") and not (top == "server" and area == "xmpp"):
                    bad.append(f"{where}: gloox stays in server/xmpp/")
                continue
            first = inc.split("/")[0] if "/" in inc else None
            if first is None:
                # A plain include: the file's own folder (or, for a plugin, a service header).
                if (path.parent / inc).exists():
                    continue
                owner = [f"{p.parent.name}/{inc}" for p in (root / "plugins").glob(f"*/{inc}")]
                if top == "plugins" and any(o in SERVICE_HEADERS for o in owner):
                    continue
                bad.append(f"{where}: not in its own folder" +
                           (f" (a plugin's header: {owner[0]})" if owner else ""))
            elif first in server_dirs:
                allowed = SERVER.get(area, set()) if top == "server" else PLUGIN_MAY
                if first not in allowed:
                    bad.append(f"{where}: {top}/{area} may not depend on server/{first}")
    return bad


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
    bad = check(root)
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
