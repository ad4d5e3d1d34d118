"""Fixtures for protocol tests against the private stack (scripts/stack up).

    stack             dict of .run/stack.env at session start (ports, domains, secrets, paths;
                      PIDs change when a test restarts a server: lib.stack.load_env() rereads)
    new_user()        a fresh account (random name) -> lib.stack.Account
    client_factory()  a connected XmppClient (a new account unless one is given)
    component_factory()  a connected ComponentHarness (the harness domain unless told)
    http              SalondHttp on SALON_HTTP_URL with the API token (skips without salond)
    salond_factory()  a second salond with its own config, stopped after the test
    free_port()       a free loopback port

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

import pytest

from lib.client import ClientLoop, XmppClient
from lib.component import ComponentHarness
from lib.http import SalondHttp
from lib.salond import SalondProcess, free_port as _free_port, write_config
from lib.stack import Account, create_account, load_env, run_dir

logging.getLogger("slixmpp").setLevel(logging.WARNING)

# What ASan, LSan and UBSan print when they find something (tests run salond under them in
# scripts/test's sanitizer stage).
SANITIZER_REPORT = re.compile(r"ERROR: (?:Address|Leak)Sanitizer|runtime error:")

REQUIRED_KEYS = (
    "SALON_XMPP_SERVER", "SALON_XMPP_HOST", "SALON_C2S_PORT", "SALON_WEBSOCKET_URL",
    "SALON_BOSH_URL", "SALON_USER_DOMAIN", "SALON_COMPONENT_DOMAIN", "SALON_COMPONENT_PORT",
    "SALON_COMPONENT_SECRET", "SALON_HTTP_URL", "SALON_API_TOKEN", "SALON_PG_CONNINFO",
    "SALON_PG_DATA", "SALON_PG_BIN", "SALON_CONFIG", "SALON_BIN", "SALON_RUN_DIR",
)


@pytest.fixture(scope="session")
def stack() -> dict[str, str]:
    path = run_dir() / "stack.env"
    if not path.exists():
        pytest.fail(f"no {path}: start the stack first (scripts/stack up)", pytrace=False)
    env = load_env(path)
    missing = [k for k in REQUIRED_KEYS if k not in env]
    if missing:
        pytest.fail(f"{path} lacks {', '.join(missing)}", pytrace=False)
    return env


@pytest.fixture(scope="session")
def salond_running(stack: dict[str, str]) -> bool:
    """True when scripts/stack started salond (not `up --no-salond`)."""
    return stack.get("SALON_SALOND_RUNNING") == "1"


@pytest.fixture(scope="session")
def xmpp_loop() -> Iterator[ClientLoop]:
    loop = ClientLoop()
    yield loop
    loop.close()


@pytest.fixture
def new_user(stack: dict[str, str]) -> Callable[..., Account]:
    """new_user(prefix="u") -> Account; registered on the XMPP server, random name."""
    return lambda prefix="u": create_account(stack, prefix)


@pytest.fixture
def client_factory(stack: dict[str, str], xmpp_loop: ClientLoop,
                   new_user: Callable[..., Account]) -> Iterator[Callable[..., XmppClient]]:
    """client_factory(account=None, resource=None, connect=True, timeout=10) -> XmppClient.

    Without an account, registers a new one. Every client is closed after the test.
    """
    clients: list[XmppClient] = []

    def make(account: Optional[Account] = None, resource: Optional[str] = None,
             connect: bool = True, timeout: float = 10.0) -> XmppClient:
        account = account or new_user()
        jid = account.jid + (f"/{resource}" if resource else "")
        client = XmppClient(xmpp_loop, jid, account.password, stack["SALON_XMPP_HOST"],
                            int(stack["SALON_C2S_PORT"]), name=account.user)
        clients.append(client)
        return client.connect(timeout) if connect else client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def component_factory(stack: dict[str, str]) -> Iterator[Callable[..., ComponentHarness]]:
    """component_factory(domain=None, secret=None, port=None, connect=True) -> ComponentHarness.

    Defaults to the harness domain (SALON_HARNESS_*), which only tests use; pass
    domain=stack["SALON_COMPONENT_DOMAIN"] to stand in for salond (with --no-salond).
    """
    made: list[ComponentHarness] = []

    def make(domain: Optional[str] = None, secret: Optional[str] = None, port: Optional[int] = None,
             connect: bool = True) -> ComponentHarness:
        domain = domain or stack["SALON_HARNESS_DOMAIN"]
        if domain == stack["SALON_COMPONENT_DOMAIN"]:
            secret = secret or stack["SALON_COMPONENT_SECRET"]
            port = port or int(stack["SALON_COMPONENT_PORT"])
        else:
            secret = secret or stack["SALON_HARNESS_SECRET"]
            port = port or int(stack["SALON_HARNESS_PORT"])
        comp = ComponentHarness(stack["SALON_XMPP_HOST"], port, domain, secret)
        made.append(comp)
        return comp.connect() if connect else comp

    yield make
    for comp in made:
        comp.close()


@pytest.fixture
def http(stack: dict[str, str], salond_running: bool) -> SalondHttp:
    if not salond_running:
        pytest.skip("salond not started by the stack (scripts/stack up --no-salond)")
    return SalondHttp(stack["SALON_HTTP_URL"], stack["SALON_API_TOKEN"])


@pytest.fixture
def free_port() -> Callable[[], int]:
    return _free_port


@pytest.fixture
def salond_factory(stack: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., SalondProcess]]:
    """salond_factory(start=True, args=(), drop={}, **sections) -> SalondProcess.

    The config is the stack's with the given keys replaced, and always its own HTTP port, e.g.
    salond_factory(component={"secret": "wrong"}). Processes are stopped after the test.
    """
    procs: list[SalondProcess] = []

    def make(start: bool = True, args: tuple[str, ...] = (), drop: Mapping[str, list[str]] = {},
             **sections: Mapping[str, Any]) -> SalondProcess:
        http_section = {"listen": f"127.0.0.1:{_free_port()}", **sections.pop("http", {})}
        cfg = write_config(tmp_path, stack["SALON_CONFIG"], name=f"salond-{len(procs)}.toml",
                           drop=drop, http=http_section, **sections)
        proc = SalondProcess(stack["SALON_BIN"], cfg, *args)
        proc.http_url = "http://" + http_section["listen"]  # type: ignore[attr-defined]
        procs.append(proc)
        return proc.start() if start else proc

    yield make
    reports = []
    for proc in procs:
        proc.stop()
        # Under a sanitized salond (scripts/test's ASan stage) a report is a failure even if
        # the test's own assertions passed; it goes to salond's stderr.
        if SANITIZER_REPORT.search(proc.stderr_text()):
            reports.append(str(proc.stderr_path))
    if reports:
        pytest.fail("sanitizer report from salond: " + ", ".join(reports), pytrace=False)
