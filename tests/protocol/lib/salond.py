"""Running a salond of a test's own, with its own config (e.g. a wrong secret).

    cfg = write_config(tmp_path, base=stack["SALON_CONFIG"], component={"secret": "wrong"},
                       http={"listen": f"127.0.0.1:{free_port()}"})
    with SalondProcess(stack["SALON_BIN"], cfg) as proc:
        assert proc.wait(10) == 2
        assert "not-authorized" in proc.stderr_text()
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import requests


def free_port() -> int:
    """A port that is free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"no TOML for {v!r}")


def write_config(dest_dir: Union[str, Path], base: Union[str, Path, None] = None,
                 name: str = "salond.toml", drop: Mapping[str, list[str]] = {},
                 **sections: Mapping[str, Any]) -> Path:
    """Writes a salond config: `base` (the stack's, usually) with keys replaced or added per
    section, e.g. component={"secret": "x"}; drop={"http": ["api_token"]} removes keys.

    Only handles the flat `key = value` lines scripts/stack writes (no inline tables/arrays).
    """
    lines = Path(base).read_text().splitlines() if base else []
    todo = {sec: dict(kv) for sec, kv in sections.items()}
    out: list[str] = []
    section = ""

    def flush(sec: str) -> None:
        for k, v in todo.pop(sec, {}).items():
            out.append(f"{k} = {toml_value(v)}")

    for line in lines:
        m = re.match(r"\s*\[([^\]]+)\]\s*$", line)
        if m:
            flush(section)
            section = m.group(1).strip()
            out.append(line)
            continue
        m = re.match(r"\s*([A-Za-z0-9_]+)\s*=", line)
        if m:
            key = m.group(1)
            if key in drop.get(section, []):
                continue
            if key in todo.get(section, {}):
                out.append(f"{key} = {toml_value(todo[section].pop(key))}")
                continue
        out.append(line)
    flush(section)
    for sec in list(todo):
        out.append(f"\n[{sec}]")
        flush(sec)
    path = Path(dest_dir) / name
    path.write_text("\n".join(out) + "\n")
    path.chmod(0o600)
    return path


class SalondProcess:
    """salond started by a test; stdout/stderr go to files next to its config."""

    def __init__(self, binary: Union[str, Path], config: Union[str, Path], *extra_args: str) -> None:
        self.binary, self.config = str(binary), Path(config)
        self.args = [self.binary, "--config", str(self.config), *extra_args]
        self.stdout_path = self.config.with_suffix(".stdout")
        self.stderr_path = self.config.with_suffix(".stderr")
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "SalondProcess":
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait(self, timeout: float) -> int:
        """The exit status; raises subprocess.TimeoutExpired if still running."""
        assert self.proc is not None
        return self.proc.wait(timeout)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> Optional[int]:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def stdout_text(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def wait_http(self, url: str, path: str = "/readyz", status: int = 200, timeout: float = 30.0) -> requests.Response:
        """Polls GET url+path until it answers `status`; fails early if salond exits."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"salond exited {self.proc.returncode} while waiting for {path}:\n"
                                     f"{self.stderr_text()[-3000:]}")
            try:
                last = requests.get(url + path, timeout=2)
                if last.status_code == status:
                    return last
            except requests.RequestException as e:
                last = e
            time.sleep(0.05)
        raise AssertionError(f"GET {url}{path} never answered {status} in {timeout}s; last: "
                             f"{getattr(last, 'status_code', last)} {getattr(last, 'text', '')[:300]}")

    def __enter__(self) -> "SalondProcess":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
