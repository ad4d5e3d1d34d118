"""Component-level harness: salond connected straight to a fake XMPP server (lib/fake_server).

No Prosody/ejabberd in between, so the exact order of what salond writes on its XEP-0114 link is
observable: join sequence, FIFO reflection, link loss without losing occupants, hostile input.
"""
from __future__ import annotations

import secrets
import subprocess
import time

import pytest

from lib.fake_server import FakeServer
from lib.xmlutil import NS_MUC, NS_PING, NS_SID, error_condition, local

DOMAIN = "rooms.direct.test"


def psql(conninfo: str, sql: str) -> None:
    subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-qAt", conninfo, "-c", sql], check=True,
                   capture_output=True, text=True)


@pytest.fixture
def direct(stack, salond_factory):
    """salond on its own scratch database, connected to a FakeServer; yields (server, salond)."""
    db = f"direct_{secrets.token_hex(4)}"
    admin = stack["SALON_PG_ADMIN_CONNINFO"]
    psql(admin, f"CREATE DATABASE {db} OWNER salon")
    secret = secrets.token_hex(8)
    srv = FakeServer(secret).start()
    conninfo = stack["SALON_PG_CONNINFO"].replace("dbname=salon", f"dbname={db}")
    proc = salond_factory(component={"domain": DOMAIN, "server_port": srv.port, "secret": secret},
                          database={"conninfo": conninfo})
    srv.wait_authenticated()
    proc.wait_http(proc.http_url, "/readyz", 200, timeout=20)
    yield srv, proc
    proc.stop()
    srv.close()
    psql(admin, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def provision(proc, stack, project, members):
    import requests
    r = requests.put(f"{proc.http_url}/api/v1/projects/{project}",
                     headers={"Authorization": f"Bearer {stack['SALON_API_TOKEN']}"},
                     json={"name": project, "description": "", "members": members}, timeout=5)
    assert r.status_code in (200, 201), r.text


def to(jid):
    return lambda el: el.get("to") == jid


def join(srv, real, room, nick):
    srv.send(f"<presence from='{real}' to='{room}/{nick}'><x xmlns='{NS_MUC}'>"
             f"<history maxstanzas='0'/></x></presence>")


def alice_and_bob_project(proc, stack):
    project = f"p{secrets.token_hex(3)}"
    provision(proc, stack, project, [
        {"jid": "alice@localhost", "name": "Alice", "email": "a@x.test", "role": "client"},
        {"jid": "bob@localhost", "name": "Bob", "email": "b@x.test", "role": "designer"}])
    return f"{project}@{DOMAIN}"


def alice_and_bob_in_a_room(srv, proc, stack):
    room = alice_and_bob_project(proc, stack)
    for real, nick in (("alice@localhost/web", "Alice"), ("bob@localhost/phone", "Bob")):
        join(srv, real, room, nick)
        srv.wait_for(lambda el, r=real: el.get("to") == r and el.find("{*}subject") is not None)
    return room


def test_join_sequence_order_on_the_wire(stack, direct):
    srv, proc = direct
    room = alice_and_bob_project(proc, stack)
    join(srv, "alice@localhost/web", room, "Alice")
    srv.wait_for(lambda el: local(el.tag) == "message" and el.get("to") == "alice@localhost/web"
                 and el.find("{*}subject") is not None, what="alice's subject")
    join(srv, "bob@localhost/phone", room, "Bob")
    seq = []
    while not (seq and local(seq[-1].tag) == "message"):
        seq.append(srv.wait_for(to("bob@localhost/phone"), what="bob's join sequence"))
    kinds = [(local(e.tag), e.get("from")) for e in seq]
    # XEP-0045 §7.2.3-§7.2.15: existing occupants, then self-presence, then (no history) subject.
    assert kinds == [("presence", f"{room}/Alice"), ("presence", f"{room}/Bob"), ("message", room)], kinds
    codes = {s.get("code") for s in seq[1].iter() if local(s.tag) == "status"}
    assert {"110", "100"} <= codes and "210" not in codes
    # Alice is told about Bob, once.
    srv.wait_for(lambda el: el.get("to") == "alice@localhost/web" and el.get("from") == f"{room}/Bob")


def test_groupchat_reflection_is_fifo_with_unique_stanza_ids(stack, direct):
    srv, proc = direct
    room = alice_and_bob_in_a_room(srv, proc, stack)
    n = 20  # within the default rate limit burst
    for i in range(n):
        srv.send(f"<message from='alice@localhost/web' to='{room}' type='groupchat' id='m{i}'>"
                 f"<body>hello {i}</body></message>")
    got = [srv.wait_for(lambda el: local(el.tag) == "message" and el.get("to") == "bob@localhost/phone"
                        and el.find("{*}body") is not None, what=f"message {i}") for i in range(n)]
    assert [m.get("id") for m in got] == [f"m{i}" for i in range(n)]
    sids = [m.find(f"{{{NS_SID}}}stanza-id") for m in got]
    assert all(s is not None and s.get("by") == room for s in sids)
    assert len({s.get("id") for s in sids}) == n


def test_link_loss_keeps_occupants(stack, direct):
    srv, proc = direct
    room = alice_and_bob_in_a_room(srv, proc, stack)
    srv.drop_connection()
    start = time.monotonic()
    deadline = start + 5
    while srv.connections < 2 or not srv.authenticated.is_set():
        assert time.monotonic() < deadline, "salond did not reconnect"
        time.sleep(0.01)
    assert time.monotonic() - start < 2.5
    srv.inbox.drain()
    srv.send(f"<message from='alice@localhost/web' to='{room}' type='groupchat' id='after'>"
             f"<body>still here?</body></message>")
    m = srv.wait_for(lambda el: el.get("to") == "bob@localhost/phone" and el.get("id") == "after")
    assert m.get("from") == f"{room}/Alice"
    srv.inbox.expect_nothing(lambda el: local(el.tag) == "presence" and el.get("type") == "unavailable",
                             within=0.5)


def test_hostile_addresses_never_crash_and_get_precise_errors(direct):
    srv, proc = direct
    bad = [
        f"<iq from='' to='{DOMAIN}' type='get' id='b1'><ping xmlns='{NS_PING}'/></iq>",
        f"<iq from='not a jid@@' to='{DOMAIN}' type='get' id='b2'><ping xmlns='{NS_PING}'/></iq>",
        f"<iq from='u@localhost/r' to='bad room@{DOMAIN}' type='get' id='b3'><ping xmlns='{NS_PING}'/></iq>",
        f"<iq from='u@localhost/r' to='{DOMAIN}' type='result' id='b4'/>",
        f"<iq from='u@localhost/r' to='{DOMAIN}' type='error' id='b5'/>",
        f"<message from='u@localhost/r' to='{DOMAIN}' type='error'><body>x</body></message>",
        f"<presence from='u@localhost/r' to='x@{DOMAIN}/n' type='error'/>",
    ]
    for s in bad:
        srv.send(s)
    r3 = srv.wait_for(lambda el: el.get("id") == "b3")
    assert r3.get("type") == "error" and error_condition(r3) == "jid-malformed"
    # Results and errors are never answered (no error loops).
    srv.inbox.expect_nothing(lambda el: el.get("id") in ("b4", "b5"), within=0.5)
    srv.send(f"<iq from='u@localhost/r' to='{DOMAIN}' type='get' id='alive'><ping xmlns='{NS_PING}'/></iq>")
    ok = srv.wait_for(lambda el: el.get("id") == "alive")
    assert ok.get("type") == "result" and ok.get("from") == DOMAIN
    assert proc.running()
