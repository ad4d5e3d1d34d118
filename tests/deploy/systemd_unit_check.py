#!/usr/bin/env python3
"""Checks deploy/systemd/salond.service (issue 12 §2): systemd accepts it, and its sandbox
lets salond do what the example config asks of it.

    systemd_unit_check.py UNIT EXAMPLE_CONFIG SALOND_BINARY

- `systemd-analyze verify` on a copy whose ExecStart*/ExecReload point at the built binary
  (verify insists that the commands exist).
- With ProtectSystem=strict the whole file system is read-only except what the unit opens:
  every directory the example config writes to (the journal's spool_dir) must be under a
  StateDirectory/CacheDirectory/LogsDirectory/RuntimeDirectory or a ReadWritePaths entry.
- LimitNOFILE covers the HTTP listener's connection limit plus the link, libpq, the spool and
  a margin; the default soft limit (1024) does not.
Exit 0 when all hold; one line per failed check otherwise.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HTTP_MAX_CONNECTIONS = 10000  # server/http/http.hpp Limits::max_connections
OTHER_FDS = 256  # link, libpq connections, spool, logs, epoll, timers: generous


def directives(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def writable_roots(d: dict[str, list[str]]) -> list[Path]:
    roots = []
    for key, base in (("StateDirectory", "/var/lib"), ("CacheDirectory", "/var/cache"),
                      ("LogsDirectory", "/var/log"), ("RuntimeDirectory", "/run")):
        for value in d.get(key, []):
            roots += [Path(base) / v for v in value.split()]
    for value in d.get("ReadWritePaths", []):
        roots += [Path(v.lstrip("-")) for v in value.split()]
    return roots


def config_write_dirs(config: dict) -> list[Path]:
    dirs = []
    if "spool_dir" in config.get("database", {}):
        dirs.append(Path(config["database"]["spool_dir"]))
    for name, section in config.get("plugins", {}).items():
        if isinstance(section, dict) and section.get("enabled", True) and "spool_dir" in section:
            dirs.append(Path(section["spool_dir"]))
    return dirs


def verify(unit_text: str, binary: str) -> list[str]:
    if shutil.which("systemd-analyze") is None:
        return ["systemd-analyze not installed (Debian package systemd)"]
    patched = re.sub(r"/usr/local/bin/salond", str(Path(binary).resolve()), unit_text)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "salond.service"
        path.write_text(patched)
        r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True,
                           text=True, timeout=60)
    noise = ("Failed to connect", "system bus", "Cannot find unit", "is not a unit file")
    problems = [l for l in (r.stdout + r.stderr).splitlines()
                if l.strip() and not any(n in l for n in noise)]
    if r.returncode != 0 or problems:
        return [f"systemd-analyze verify: {l}" for l in problems or [f"exit {r.returncode}"]]
    return []


def main() -> int:
    unit_path, config_path, binary = sys.argv[1:4]
    text = Path(unit_path).read_text()
    d = directives(text)
    failures = verify(text, binary)
    if d.get("ProtectSystem", [""])[-1] in ("strict", "full", "yes"):
        roots = writable_roots(d)
        config = tomllib.loads(Path(config_path).read_text())
        for wanted in config_write_dirs(config):
            if not any(wanted == r or r in wanted.parents for r in roots):
                failures.append(f"{wanted} (spool_dir in {config_path}) is read-only under "
                                f"ProtectSystem={d['ProtectSystem'][-1]}: add a StateDirectory "
                                f"or ReadWritePaths covering it")
    need = HTTP_MAX_CONNECTIONS + OTHER_FDS
    nofile = d.get("LimitNOFILE", [""])[-1].split(":")[0]
    if not nofile.isdigit() or int(nofile) < need:
        failures.append(f"LimitNOFILE={nofile or '(unset, soft limit 1024)'}: needs at least {need}")
    for f in failures:
        print("FAIL", f)
    print("systemd unit:", "ok" if not failures else f"{len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
