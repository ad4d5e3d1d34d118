"""The stack's SMTP sink as seen by the email tests: messages saved as .eml files
(scripts/lib/smtp_sink.py), parsed with Python's email package, and the control file that
makes the sink refuse or stall."""
from __future__ import annotations

import email
import email.policy
import json
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Optional


@dataclass
class Mail:
    path: Path
    envelope: dict[str, Any]
    msg: EmailMessage
    raw: bytes

    @property
    def to(self) -> list[str]:
        return self.envelope["rcpt_tos"]

    def part(self, ctype: str) -> str:
        for p in self.msg.walk():
            if p.get_content_type() == ctype:
                return p.get_content()
        raise AssertionError(f"no {ctype} part in {self.path}")


class Mailbox:
    """The sink's directory. Files are numbered in arrival order (NNNNNN.eml); each is read and
    parsed once per session, whatever else other tests (or earlier runs) left there."""

    _cache: dict[Path, list[Mail]] = {}

    def __init__(self, stack: dict[str, str]) -> None:
        self.dir = Path(stack["SALON_SMTP_DIR"])
        self.control_path = Path(stack["SALON_SMTP_CONTROL"])
        self.mails = Mailbox._cache.setdefault(self.dir, [])

    def all(self) -> list[Mail]:
        while True:
            eml = self.dir / f"{len(self.mails) + 1:06d}.eml"
            if not eml.exists():
                return self.mails
            raw = eml.read_bytes()
            env = json.loads(eml.with_suffix(".json").read_text())
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            self.mails.append(Mail(eml, env, msg, raw))  # type: ignore[arg-type]

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.all() if address in m.to]

    def wait_for(self, address: str, count: int = 1, timeout: float = 30.0) -> list[Mail]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.to(address)
            if len(got) >= count:
                return got
            if time.monotonic() >= deadline:
                raise AssertionError(f"{len(got)} email(s) to {address} within {timeout}s, "
                                     f"wanted {count}")
            time.sleep(0.1)

    def events(self) -> list[str]:
        path = self.dir / "events.log"
        return path.read_text().splitlines() if path.exists() else []

    def control(self, **settings: Any) -> None:
        """Sets the sink's behaviour (smtp_sink.py); control() restores normal service."""
        tmp = self.control_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(settings))
        tmp.replace(self.control_path)


def address_of(account: Any) -> str:
    """The address muc_support.Member provisions for an account."""
    acct = getattr(account, "account", account)
    return f"{acct.user}@example.com"


def email_state(http: Any, jid: str) -> dict[str, Any]:
    r = http.get(f"/api/v1/users/{jid}/email")
    assert r.status_code == 200, r.text
    return r.json()


def set_email(http: Any, jid: str, **fields: Any) -> dict[str, Any]:
    r = http.put(f"/api/v1/users/{jid}/email", json=fields)
    assert r.status_code == 200, r.text
    return r.json()


def wait_state(http: Any, jid: str, pred: Any, timeout: float = 20.0, what: str = "") -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        st = email_state(http, jid)
        if pred(st):
            return st
        if time.monotonic() >= deadline:
            raise AssertionError(f"email state of {jid} never became {what}: {st}")
        time.sleep(0.1)


FINAL = {"sent", "failed", "in_doubt", "cancelled"}


def settled(http: Any, jid: str, timeout: float = 30.0) -> dict[str, Any]:
    """Waits until nothing can send the member another email: no pending notification and
    every digest in a final state. From then on the mailbox cannot change for them, so a
    test checks "exactly one" or "none" at once instead of sleeping."""
    return wait_state(http, jid, lambda s: not s["pending"]
                      and all(d["state"] in FINAL for d in s["recent"]), timeout, "settled")


def screenshot_html(html: str, out: Path, chromium: str = "/usr/bin/chromium") -> Optional[Path]:
    """Renders an email's HTML part in headless Chromium to a PNG (a test artefact)."""
    import subprocess
    import tempfile
    if not Path(chromium).exists():
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        page = Path(d) / "email.html"
        page.write_text(html, encoding="utf-8")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--no-first-run", f"--user-data-dir={d}/profile",
                        "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=700,900",
                        f"--screenshot={out}", page.as_uri()],
                       capture_output=True, timeout=60, check=False)
    return out if out.exists() and out.stat().st_size > 0 else None
