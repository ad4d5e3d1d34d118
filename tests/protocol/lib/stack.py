"""The private stack that scripts/stack started: its stack.env, accounts, and control commands."""
from __future__ import annotations

import os
import secrets
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[3]
STACK_SCRIPT = ROOT / "scripts" / "stack"


def run_dir() -> Path:
    return Path(os.environ.get("SALON_RUN_DIR") or ROOT / ".run")


def load_env(path: Optional[Path] = None) -> dict[str, str]:
    """Parses stack.env (shell KEY='value' lines) into a dict."""
    path = path or run_dir() / "stack.env"
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        parts = shlex.split(value)
        env[key] = parts[0] if parts else ""
    return env


def stack(*args: str, timeout: float = 120.0, check: bool = True) -> subprocess.CompletedProcess:
    """Runs scripts/stack ARGS (same run dir); raises with its output when it fails."""
    proc = subprocess.run([str(STACK_SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "SALON_RUN_DIR": str(run_dir())})
    if check and proc.returncode != 0:
        raise RuntimeError(f"scripts/stack {' '.join(args)} exited {proc.returncode}:\n"
                           f"{proc.stdout}{proc.stderr}")
    return proc


@dataclass(frozen=True)
class Account:
    user: str
    domain: str
    password: str

    @property
    def jid(self) -> str:
        return f"{self.user}@{self.domain}"


def create_account(env: dict[str, str], prefix: str = "u") -> Account:
    """A fresh account with a random name, registered through scripts/stack adduser."""
    account = Account(f"{prefix}-{secrets.token_hex(5)}", env["SALON_USER_DOMAIN"],
                      secrets.token_urlsafe(12))
    stack("adduser", account.user, account.password)
    return account
