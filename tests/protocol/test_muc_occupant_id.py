"""XEP-0421 anonymous unique occupant identifiers in project rooms, through the real XMPP
server: every presence and message the room sends on behalf of an occupant carries exactly one
<occupant-id/> (§3, §4), the one of the sender's real bare JID, stable across everything the
occupant does and across rejoins (§4.1), pseudonymous and at most 128 characters (§4.1); a
client-supplied one is replaced (§4).

Each event is checked in the occupant's own copy ("reflected") and in another occupant's copy
("broadcast"), as the conformance rows do.

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_muc_occupant_id.py
"""
from __future__ import annotations

import pytest

from muc_support import (NS_OCCUPANT_ID, assert_result, codes, groupchat_with_body, is_message, is_presence,
                         is_unavailable, item, mark, muc, muc_accounts, occupant_ids, wait_until)
from lib.xmlutil import to_string

__all__ = ["muc", "muc_accounts"]

FORGED = f"<occupant-id xmlns='{NS_OCCUPANT_ID}' id='forged-by-client'/>"


def room_with_olga_and_bob(muc):
    """Olga (owner) and Bob in the room, then Alice: returns Alice's occupant-id from her join."""
    a, b, o = muc.new_clients("alice", "bob", "olga")
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), (o, "staff", "Olga"))
    muc.join(o, room, "Olga")
    muc.join(b, room, "Bob")
    return room, a, b, o


def from_alice(room, *nicks):
    jids = {room.occ(n) for n in (nicks or ("Alice",))}
    return lambda el: el.get("from") in jids and (is_presence(el) or is_message(el)) and el.get("type") != "error"


def collect(muc, c, room, m, pred, what, count=1):
    """The stanzas matching pred that arrived since mark m: waits for `count` of them, then a
    barrier, so that any later copy is included too."""
    wait_until(lambda: len(m.since(pred)) >= count, 5, what=what)
    muc.sync(c, room)
    return m.since(pred)


# Each event: does something as/with Alice, returns predicate(s) for the stanzas to check.
def ev_join(muc, room, a, b, o):
    muc.join(a, room, "Alice")
    return from_alice(room), "join presence"


def ev_message(muc, room, a, b, o):
    muc.join(a, room, "Alice")
    muc.say(a, room, "plain")
    return groupchat_with_body(room.jid, "plain"), "message"


def ev_message_replaced(muc, room, a, b, o):
    muc.join(a, room, "Alice")
    muc.say(a, room, "forged", FORGED)
    return groupchat_with_body(room.jid, "forged"), "message with a forged occupant-id"


def ev_message_replaced_multiple(muc, room, a, b, o):
    muc.join(a, room, "Alice")
    muc.say(a, room, "forged2", FORGED + f"<occupant-id xmlns='{NS_OCCUPANT_ID}' id='second'/>")
    return groupchat_with_body(room.jid, "forged2"), "message with two forged occupant-ids"


def ev_status_change(muc, room, a, b, o):
    muc.join(a, room, "Alice")
    a.send(f"<presence to='{room.occ('Alice')}'><show>dnd</show></presence>")
    return lambda el: from_alice(room)(el) and "dnd" in to_string(el), "availability change"


def ev_status_change_replaced(muc, room, a, b, o):
    muc.join(a, room, "Alice")
    a.send(f"<presence to='{room.occ('Alice')}'><show>xa</show>{FORGED}</presence>")
    return lambda el: from_alice(room)(el) and ">xa<" in to_string(el), "availability change with forged id"


def ev_nick_change(muc, room, a, b, o):
    muc.join(a, room, "Alice")
    a.send(f"<presence to='{room.occ('Sunny')}'/>")
    return from_alice(room, "Alice", "Sunny"), "nick change (303 and new presence)", 2


def ev_leave(muc, room, a, b, o):
    muc.join(a, room, "Alice")
    a.send(f"<presence to='{room.occ('Alice')}' type='unavailable'/>")
    return lambda el: from_alice(room)(el) and is_unavailable(el), "leave presence"


def _role(role, first=None):
    def ev(muc, room, a, b, o):
        muc.join(a, room, "Alice")
        if first:
            assert_result(muc.set_role(o, room, "Alice", first))
        return None, lambda: assert_result(muc.set_role(o, room, "Alice", role)), \
            (lambda el: from_alice(room)(el) and item(el).get("role") == role), f"role change to {role}"
    return ev


def _affiliation(aff, first=None):
    def ev(muc, room, a, b, o):
        muc.join(a, room, "Alice")
        if first:
            assert_result(muc.set_affiliation(o, room, a.bare, first))
        return None, lambda: assert_result(muc.set_affiliation(o, room, a.bare, aff)), \
            (lambda el: from_alice(room)(el) and item(el).get("affiliation") == aff), f"affiliation change to {aff}"
    return ev


def ev_rejoin(muc, room, a, b, o):
    muc.join(a, room, "Alice")
    muc.leave(a, room, "Alice")

    def action():
        muc.join(a, room, "Alice")
    return None, action, (lambda el: from_alice(room)(el) and not is_unavailable(el)), \
        "join presence after a rejoin"


def ev_nick_change_and_rejoin(muc, room, a, b, o):
    muc.join(a, room, "Alice")
    a.send(f"<presence to='{room.occ('Sunny')}'/>")
    a.wait_for(lambda el: el.get("from") == room.occ("Sunny") and 110 in codes(el) and not is_unavailable(el))
    muc.leave(a, room, "Sunny")

    def action():
        muc.join(a, room, "Sunny2")
    return None, action, (lambda el: el.get("from") == room.occ("Sunny2") and not is_unavailable(el)), \
        "join presence after a nick change and rejoin"


EVENTS = {
    "JoinPresence": ev_join,
    "Message": ev_message,
    "MessageReplaced": ev_message_replaced,
    "MessageReplacedMultiple": ev_message_replaced_multiple,
    "AvailabilityStatusChange": ev_status_change,
    "AvailabilityStatusChangeReplaced": ev_status_change_replaced,
    "NicknameChange": ev_nick_change,
    "LeavePresence": ev_leave,
    "RoleChangeToParticipant": _role("participant", first="visitor"),
    "RoleChangeToVisitor": _role("visitor"),
    "RoleChangeToModerator": _role("moderator"),
    "AffiliationChangeToOutcast": _affiliation("outcast"),
    "AffiliationChangeToNone": _affiliation("none"),
    "AffiliationChangeToMember": _affiliation("member", first="admin"),
    "AffiliationChangeToAdmin": _affiliation("admin"),
    "AffiliationChangeToOwner": _affiliation("owner"),
    "JoinPresenceAfterRejoin": ev_rejoin,
    "JoinPresenceAfterNicknameChangeAndRejoin": ev_nick_change_and_rejoin,
}


@pytest.mark.parametrize("view", ["Reflected", "Broadcast"])
@pytest.mark.parametrize("event", list(EVENTS))
def test_occupant_id(muc, event, view):
    """XEP-0421 §3.1, §3.2, §4, §4.1 (testOccupantIdIn<view><event>,
    testSingleOccupantIdIn<view><event>): the stanza carries exactly one occupant-id, the
    occupant's stable one (a client-supplied one is replaced)."""
    room, a, b, o = room_with_olga_and_bob(muc)
    ref = muc.join(muc.client(a.account), room, "Alice").occupant_id   # Alice's id, from a probe session
    assert ref
    muc.leave(muc.clients[-1], room, "Alice")
    c = a if view == "Reflected" else b
    m = mark(c)
    out = EVENTS[event](muc, room, a, b, o)
    count = 1
    if len(out) == 4:            # events with a preparation, then the action itself
        _, action, pred, what = out
        m = mark(c)
        action()
    else:
        pred, what, *rest = out
        count = rest[0] if rest else 1
    got = collect(muc, c, room, m, pred, what, count)
    for el in got:
        ids = occupant_ids(el)
        assert len(ids) == 1, f"{what}: {to_string(el)}"
        assert ids[0] == ref, f"{what}: id {ids[0]!r}, expected the stable {ref!r}: {to_string(el)}"


def test_occupant_id_differs_between_users_and_does_not_contain_the_username(muc):
    """XEP-0421 §4.1 (testOccupantIdDoesntContainUsername): pseudonymous — it does not reveal
    the real JID's localpart, and two users get different ids."""
    room, a, b, o = room_with_olga_and_bob(muc)
    ja = muc.join(a, room, "Alice")
    ids = {ja.occupant_id}
    for c in (b, o):
        p = ja.others[[x.get("from") for x in ja.others].index(room.occ("Bob" if c is b else "Olga"))]
        ids.add(occupant_ids(p)[0])
    assert len(ids) == 3
    for oid, c in zip([ja.occupant_id], [a]):
        user = c.bare.split("@")[0]
        assert user.lower() not in oid.lower() and c.bare.lower() not in oid.lower()


def test_occupant_id_is_at_most_128_characters(muc):
    """XEP-0421 §4.1 (testOccupantIdLength)."""
    room, a, b, o = room_with_olga_and_bob(muc)
    j = muc.join(a, room, "Alice")
    assert 0 < len(j.occupant_id) <= 128
