"""MUC limits on the wire (issue 12 §2), through salond connected to a fake XMPP server.

- XEP-0045 §7.8.2 mediated decline: only a member may decline, only to a member, and the room
  relays the decline's from/to/reason and nothing else of the sender's stanza.
- muc#admin: permission is checked before a nick is looked up (no occupant oracle).
- XEP-0203 <delay/> from a client is not reflected nor archived (history would be backdated).
- Presence payload size and rate, forwarded IQs in flight, and unknown room names (one
  database query per name while remembered; provisioning through the API ends that at once).
"""
from __future__ import annotations

import re
import secrets

import pytest
import requests

from lib.fake_server import FakeServer
from lib.xmlutil import NS_MUC, error_condition, error_type, local
from test_component_direct import join, provision, psql

DOMAIN = "rooms.mlimits.test"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_DELAY = "urn:xmpp:delay"
ALICE, BOB = "alice@localhost/web", "bob@localhost/phone"
LIMITS = {"presences_per_second": 0.001, "presence_burst": 4, "max_presence_bytes": 512,
          "max_forwarded_iqs_per_occupant": 2}


@pytest.fixture
def limited(stack, salond_factory):
    """salond with small [muc] limits on a scratch database; yields (server, salond)."""
    db = f"mlimits_{secrets.token_hex(4)}"
    admin = stack["SALON_PG_ADMIN_CONNINFO"]
    psql(admin, f"CREATE DATABASE {db} OWNER salon")
    secret = secrets.token_hex(8)
    srv = FakeServer(secret).start()
    conninfo = stack["SALON_PG_CONNINFO"].replace("dbname=salon", f"dbname={db}")
    proc = salond_factory(component={"domain": DOMAIN, "server_port": srv.port, "secret": secret},
                          database={"conninfo": conninfo}, muc=LIMITS)
    srv.wait_authenticated()
    proc.wait_http(proc.http_url, "/readyz", 200, timeout=20)
    yield srv, proc
    proc.stop()
    srv.close()
    psql(admin, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def metric(proc, name: str, labels: str = "") -> float:
    text = requests.get(proc.http_url + "/metrics", timeout=5).text
    m = re.search(rf"^{name}{re.escape(labels)} (\S+)$", text, re.M)
    assert m, f"{name}{labels} not in /metrics"
    return float(m.group(1))


def room_with_alice_and_bob(srv, proc, stack, joined=(ALICE, BOB)):
    project = f"p{secrets.token_hex(3)}"
    provision(proc, stack, project, [
        {"jid": "alice@localhost", "name": "Alice", "email": "a@x.test", "role": "client"},
        {"jid": "bob@localhost", "name": "Bob", "email": "b@x.test", "role": "designer"}])
    room = f"{project}@{DOMAIN}"
    for real in joined:
        join(srv, real, room, real.split("@")[0].capitalize())
        srv.wait_for(lambda el, r=real: el.get("to") == r and el.find("{*}subject") is not None,
                     what=f"{real}'s join")
    srv.inbox.drain()
    return room


def reply(srv, sid: str, to: str):
    return srv.wait_for(lambda el: el.get("id") == sid and el.get("to") == to, what=f"reply {sid}")


def test_decline_only_from_members_to_members_with_only_the_xep_fields(stack, limited):
    """XEP-0045 §7.8.2: the invitee declines through the room, which tells the inviter."""
    srv, proc = limited
    room = room_with_alice_and_bob(srv, proc, stack, joined=(ALICE,))
    srv.send(f"<message from='mallory@evil.test/x' to='{room}' id='d1'><x xmlns='{NS_MUC_USER}'>"
             f"<decline to='victim@example.org'><reason>hi</reason></decline></x></message>")
    err = reply(srv, "d1", "mallory@evil.test/x")
    assert err.get("type") == "error" and error_condition(err) == "forbidden"
    srv.send(f"<message from='{BOB}' to='{room}' id='d2'><x xmlns='{NS_MUC_USER}'>"
             f"<decline to='victim@example.org'/></x></message>")
    assert error_condition(reply(srv, "d2", BOB)) == "not-acceptable"
    # Bob (a member, not in the room) declines Alice's invitation, with extras that must not pass.
    srv.send(f"<message from='{BOB}' to='{room}' id='d3'><body>spam</body>"
             f"<x xmlns='{NS_MUC_USER}'><decline to='alice@localhost' x='1'>"
             f"<reason a='b'>busy<i>!</i></reason><junk/></decline></x>"
             f"<payload xmlns='urn:example:big'/></message>")
    out = reply(srv, "d3", "alice@localhost")
    assert out.get("from") == room
    assert [local(c.tag) for c in out] == ["x"]
    (x,) = list(out)
    (dec,) = list(x)
    assert local(dec.tag) == "decline" and dict(dec.attrib) == {"from": "bob@localhost"}
    (reason,) = list(dec)
    assert local(reason.tag) == "reason" and reason.text == "busy" and not list(reason)
    assert not reason.attrib
    srv.inbox.expect_nothing(lambda el: el.get("to") in ("victim@example.org",), within=0.3)


def test_muc_admin_does_not_tell_outsiders_who_is_in_the_room(stack, limited):
    srv, proc = limited
    room = room_with_alice_and_bob(srv, proc, stack)
    for i, nick in enumerate(("Alice", "Nobody")):
        srv.send(f"<iq from='mallory@evil.test/x' to='{room}' type='set' id='o{i}'>"
                 f"<query xmlns='http://jabber.org/protocol/muc#admin'>"
                 f"<item affiliation='outcast' nick='{nick}'/></query></iq>")
        err = reply(srv, f"o{i}", "mallory@evil.test/x")
        assert error_condition(err) == "forbidden", (nick, error_condition(err))


def test_client_delay_is_neither_reflected_nor_archived(stack, limited):
    """XEP-0203 stamps are the room's to add (on history), not the sender's."""
    srv, proc = limited
    room = room_with_alice_and_bob(srv, proc, stack)
    srv.send(f"<message from='{ALICE}' to='{room}' type='groupchat' id='g1'><body>backdated</body>"
             f"<delay xmlns='{NS_DELAY}' stamp='2001-01-01T00:00:00Z' from='{room}'/></message>")
    m = srv.wait_for(lambda el: el.get("id") == "g1" and el.get("to") == BOB)
    assert m.find(f"{{{NS_DELAY}}}delay") is None
    # History for a new resource: the stamp is the room's, of now, not 2001.
    srv.send(f"<presence from='bob@localhost/tablet' to='{room}/Bob'><x xmlns='{NS_MUC}'>"
             f"<history maxstanzas='5'/></x></presence>")
    h = srv.wait_for(lambda el: el.get("to") == "bob@localhost/tablet" and el.find("{*}body") is not None,
                     what="history")
    stamps = [d.get("stamp") for d in h.iter(f"{{{NS_DELAY}}}delay")]
    assert stamps and not any(s.startswith("2001") for s in stamps), stamps


def test_presence_size_and_rate_are_bounded(stack, limited):
    srv, proc = limited
    room = room_with_alice_and_bob(srv, proc, stack)  # Alice's join took one token of 4
    srv.send(f"<presence from='{ALICE}' to='{room}/Alice' id='big'><status>{'s' * 1000}</status>"
             f"</presence>")
    err = reply(srv, "big", ALICE)
    assert error_condition(err) == "policy-violation" and error_type(err) == "modify"
    assert metric(proc, "salon_muc_stanzas_refused_total", '{limit="presence_bytes"}') == 1  # own salond
    for i in range(3):
        srv.send(f"<presence from='{ALICE}' to='{room}/Alice' id='u{i}'><show>away</show></presence>")
        srv.wait_for(lambda el: el.get("to") == BOB and el.get("from") == f"{room}/Alice",
                     what=f"update {i} at Bob")
    srv.send(f"<presence from='{ALICE}' to='{room}/Alice' id='u3'><show>xa</show></presence>")
    err = reply(srv, "u3", ALICE)
    assert error_condition(err) == "policy-violation" and error_type(err) == "wait"
    srv.inbox.expect_nothing(lambda el: el.get("to") == BOB and el.get("from") == f"{room}/Alice",
                             within=0.3)


def test_forwarded_iqs_in_flight_are_bounded(stack, limited):
    srv, proc = limited
    room = room_with_alice_and_bob(srv, proc, stack)
    for i in range(2):
        srv.send(f"<iq from='{ALICE}' to='{room}/Bob' type='get' id='f{i}'>"
                 f"<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        srv.wait_for(lambda el: el.get("to") == BOB and local(el.tag) == "iq", what=f"forward {i}")
    srv.send(f"<iq from='{ALICE}' to='{room}/Bob' type='get' id='f2'>"
             f"<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    err = reply(srv, "f2", ALICE)
    assert err.get("from") == f"{room}/Bob"
    assert error_condition(err) == "resource-constraint" and error_type(err) == "wait"


def test_an_unknown_room_is_one_query_until_it_is_provisioned(stack, limited):
    srv, proc = limited
    project = f"p{secrets.token_hex(3)}"
    room = f"{project}@{DOMAIN}"
    for i in range(3):
        srv.send(f"<presence from='{ALICE}' to='{room}/Alice' id='n{i}'><x xmlns='{NS_MUC}'/></presence>")
        assert error_condition(reply(srv, f"n{i}", ALICE)) == "item-not-found"
    # Its own salond: the first answer came from the database, the others from memory.
    assert metric(proc, "salon_muc_missing_room_cache_hits_total") == 2
    # Provisioned: the next join works at once, not after the cache's 10 s.
    provision(proc, stack, project, [
        {"jid": "alice@localhost", "name": "Alice", "email": "a@x.test", "role": "client"}])
    join(srv, ALICE, room, "Alice")
    srv.wait_for(lambda el: el.get("to") == ALICE and el.find("{*}subject") is not None,
                 what="the join after provisioning")
