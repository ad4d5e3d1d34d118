"""Project rooms change while people are in them, through the real XMPP server with real
clients: provisioning API changes applied live (issue 3: a removed member gets the XEP-0045
321 removal, DELETE gives the §10.9 destroy presence), and ghost removal — a resource that is
gone (its client vanished without leaving) is removed from the room (XEP-0045 §7.14 / the
server's unavailable on disconnect, or a bounced stanza).

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_muc_live.py
"""
from __future__ import annotations

from muc_support import (Member, assert_error, assert_result, child, codes, groupchat_with_body, is_unavailable,
                         item, mark, muc, muc_accounts, presence_from, roominfo)
from lib.xmlutil import NS_DISCO_INFO, NS_MUC_USER, to_string

__all__ = ["muc", "muc_accounts"]


def room_of_three(muc, join="oab"):
    a, b, o = muc.new_clients("alice", "bob", "olga")
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), (o, "staff", "Olga"))
    for c, nick, w in ((o, "Olga", "o"), (a, "Alice", "a"), (b, "Bob", "b")):
        if w in join:
            muc.join(c, room, nick)
    return room, a, b, o


def without(room, account):
    room.members = [m for m in room.members if m.account != account]


def abort_connection(c) -> None:
    """The client vanishes: its TCP connection is cut without </stream> or unavailable presence
    (a crashed browser, a phone that lost the network and whose server noticed)."""
    async def cut() -> None:
        transport = c._xmpp.transport     # lib.client keeps the slixmpp stream in _xmpp
        if transport is not None:
            transport.abort()
    c._loop.run(cut())
    c.disconnected.wait(5)


# --- provisioning API changes, live ------------------------------------------------------------

def test_member_removed_by_the_api_is_removed_from_the_room_with_321(muc):
    """Issue 3 / XEP-0045 §9.4: a PUT without a member who is in the room removes them with
    status 321 (to them and to everyone else); they cannot re-enter."""
    room, a, b, o = room_of_three(muc)
    without(room, a.account)
    muc.put(room)
    p = a.wait_for(presence_from(room.occ("Alice"), True))
    assert 321 in codes(p) and 110 in codes(p) and item(p)["role"] == "none", to_string(p)
    q = b.wait_for(presence_from(room.occ("Alice"), True))
    assert 321 in codes(q) and 110 not in codes(q)
    assert_error(muc.join_error(a, room, "Alice"), "registration-required")


def test_member_added_by_the_api_can_enter_at_once(muc):
    """Issue 3: a member added by PUT to a loaded room (someone is in it) may join at once,
    under their provisioned nick."""
    room, a, b, o = room_of_three(muc, join="o")
    (e,) = muc.new_clients("eve")
    room.members.append(Member(e.account, "designer", "Eve"))
    muc.put(room)
    j = muc.join(e, room, "Eve")
    assert item(j.self_presence)["affiliation"] == "member"
    r = muc.disco_info(e, room.jid, node="x-roomuser-item")
    assert [i.get("name") for i in r.iter(f"{{{NS_DISCO_INFO}}}identity")] == ["Eve"]


def test_role_change_by_the_api_is_announced(muc):
    """Issue 3 / XEP-0045 §10.3: a member who becomes staff (owner) while in the room gets the
    new affiliation and role, announced to everyone."""
    room, a, b, o = room_of_three(muc)
    for m in room.members:
        if m.account == a.account:
            m.role = "staff"
    muc.put(room)
    for c in (a, b):
        p = c.wait_for(lambda el: presence_from(room.occ("Alice"), False)(el)
                       and item(el).get("affiliation") == "owner")
        assert item(p)["role"] == "moderator"


def test_name_and_description_changes_by_the_api_are_visible(muc):
    """Issue 3: the room's name and description follow the project (disco#info, roominfo)."""
    room, a, b, o = room_of_three(muc, join="a")
    room.name, room.description = "Renamed kitchen", "Three walls now"
    muc.put(room)
    r = muc.disco_info(a, room.jid)
    assert [i.get("name") for i in r.iter(f"{{{NS_DISCO_INFO}}}identity")] == ["Renamed kitchen"]
    assert "Three walls now" in to_string(r)


def test_reserved_nick_change_by_the_api_is_visible(muc):
    """XEP-0045 §7.12: the reserved nick follows the provisioned display name."""
    room, a, b, o = room_of_three(muc, join="")
    for m in room.members:
        if m.account == a.account:
            m.name = "Alice B."
    muc.put(room)
    r = muc.disco_info(a, room.jid, node="x-roomuser-item")
    assert [i.get("name") for i in r.iter(f"{{{NS_DISCO_INFO}}}identity")] == ["Alice B."]


def test_delete_by_the_api_destroys_the_room_with_the_destroy_presence(muc):
    """Issue 3 / XEP-0045 §10.9: DELETE sends every occupant exactly one unavailable presence
    with <destroy/>; the room is gone afterwards."""
    room, a, b, o = room_of_three(muc)
    marks = {c: mark(c) for c in (a, b, o)}
    r = muc.delete(room)
    assert r.status_code in (200, 204), r.text
    for c, nick in ((a, "Alice"), (b, "Bob"), (o, "Olga")):
        p = c.wait_for(presence_from(room.occ(nick), True))
        assert child(child(p, NS_MUC_USER, "x"), NS_MUC_USER, "destroy") is not None, to_string(p)
        assert item(p)["role"] == "none"
    for c, m in marks.items():
        muc.sync(c, room)
        assert len(m.since(lambda el: is_unavailable(el) and el.get("from", "").startswith(room.jid + "/"))) == 1
    assert_error(muc.join_error(a, room, "Alice"), "item-not-found")


def test_put_listing_a_banned_member_lifts_the_ban(muc):
    """docs/openapi.yaml: bans set over XMPP survive PUTs, unless the PUT lists the JID (the
    backend is the authority on membership)."""
    room, a, b, o = room_of_three(muc, join="")
    (e,) = muc.new_clients("eve")
    assert_result(muc.set_affiliation(o, room, a.bare, "outcast"))
    assert_result(muc.set_affiliation(o, room, e.bare, "outcast"))
    muc.put(room)    # lists Alice, not Eve
    assert_error(muc.join_error(e, room, "Eve"), "forbidden")
    muc.join(a, room, "Alice")


# --- ghost removal ----------------------------------------------------------------------------------

def test_vanished_client_is_removed_from_the_room(muc):
    """Ghost removal: a client whose connection dies without leaving is removed — by the
    server's unavailable presence on its behalf, or, failing that, when the next stanza to it
    bounces — and the others see it leave."""
    room, a, b, o = room_of_three(muc, join="")
    muc.available(a)          # a real client has sent initial presence
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    abort_connection(a)
    muc.say(b, room, "anyone there?")      # a stanza to the ghost, in case the server sent nothing
    p = b.wait_for(presence_from(room.occ("Alice"), True), 10)
    assert item(p)["role"] == "none" and 110 not in codes(p)
    muc.sync(b, room)
    assert roominfo(muc.disco_info(b, room.jid))["muc#roominfo_occupants"] == ["1"]


def test_vanished_client_without_initial_presence_is_removed_on_bounce(muc):
    """Ghost removal when the server sends no unavailable presence for the client (it never sent
    initial presence, so the server tracks no directed presence): the groupchat message to it
    bounces with an error and that removes the resource."""
    room, a, b, o = room_of_three(muc, join="ab")
    abort_connection(a)
    muc.say(b, room, "ping ghost")
    p = b.wait_for(presence_from(room.occ("Alice"), True), 10)
    assert item(p)["role"] == "none"


def test_vanished_resource_of_a_multi_session_occupant_leaves_alone(muc):
    """Ghost removal with a multi-session nick: only the vanished resource is removed; the
    occupant stays (no unavailable for others) and its other resource keeps getting traffic;
    when that one leaves too, the occupant is gone (so no ghost session was left behind)."""
    room, a, b, o = room_of_three(muc, join="ab")
    a2 = muc.client(a.account)
    muc.available(a2)
    muc.join(a2, room, "Alice")
    m = mark(b)
    abort_connection(a2)
    muc.say(b, room, "first after")
    a.wait_for(groupchat_with_body(room.jid, "first after"))
    muc.say(b, room, "second after")
    a.wait_for(groupchat_with_body(room.jid, "second after"))
    muc.sync(b, room)
    assert not m.since(presence_from(room.occ("Alice"), True))
    muc.leave(a, room, "Alice")
    b.wait_for(presence_from(room.occ("Alice"), True), 5)


def test_member_removed_by_the_api_loses_every_session(muc):
    """Issue 3 / XEP-0045 §9.4 with a multi-session nick: every resource gets the 321 removal."""
    room, a, b, o = room_of_three(muc)
    a2 = muc.client(a.account)
    muc.join(a2, room, "Alice")
    without(room, a.account)
    muc.put(room)
    for c in (a, a2):
        assert 321 in codes(c.wait_for(presence_from(room.occ("Alice"), True)))
    assert_error(muc.self_ping(a2, room, "Alice"), "not-acceptable")
