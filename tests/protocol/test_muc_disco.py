"""XEP-0045 §6 service discovery of the MUC service and its project rooms (XEP-0030),
through the real XMPP server.

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_muc_disco.py
"""
from __future__ import annotations

from muc_support import (NS_ROOMINFO, assert_error, assert_result, child, children, form_fields,
                         form_field_types, muc, muc_accounts)
from lib.xmlutil import NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, to_string

__all__ = ["muc", "muc_accounts"]

ROOM_FEATURES = {
    "http://jabber.org/protocol/muc", "muc_membersonly", "muc_nonanonymous", "muc_persistent",
    "muc_hidden", "urn:xmpp:sid:0", "urn:xmpp:occupant-id:0",
    "http://jabber.org/protocol/muc#self-ping-optimization", "http://jabber.org/protocol/muc#stable_id",
}
# Room types a room cannot be at the same time as the ones above (XEP-0045 §15.5.3).
CONTRADICTIONS = {"muc_open", "muc_semianonymous", "muc_temporary", "muc_public",
                  "muc_passwordprotected", "muc_moderated"}


def features(reply):
    q = child(reply, NS_DISCO_INFO, "query")
    return {f.get("var") for f in children(q, NS_DISCO_INFO, "feature")}


def identities(reply):
    q = child(reply, NS_DISCO_INFO, "query")
    return [(i.get("category"), i.get("type"), i.get("name")) for i in children(q, NS_DISCO_INFO, "identity")]


def roominfo(reply):
    q = child(reply, NS_DISCO_INFO, "query")
    for x in children(q, NS_DATA, "x"):
        f = form_fields(x)
        if f.get("FORM_TYPE") == [NS_ROOMINFO]:
            return f, form_field_types(x), x
    return None, None, None


def project_with(muc, *prefixes_roles, name="Kitchen", description="Two walls and a window"):
    clients = muc.new_clients(*[p for p, _, _ in prefixes_roles])
    room = muc.project(*[(c, role, nick) for c, (_, role, nick) in zip(clients, prefixes_roles)],
                       name=name, description=description)
    return room, clients


def test_service_is_found_in_the_servers_disco_items(muc):
    """§6.1 (mucTestForDiscoveringMuc): a user's server lists its services in disco#items —
    the component domain is among them."""
    (a,) = muc.new_clients("alice")
    r = muc.iq(a, muc.user_domain, "get", f"<query xmlns='{NS_DISCO_ITEMS}'/>")
    assert_result(r)
    jids = {i.get("jid") for i in r.iter(f"{{{NS_DISCO_ITEMS}}}item")}
    assert muc.domain in jids, to_string(r)


def test_service_disco_info_identity_and_muc_feature(muc):
    """§6.2: the service returns its identity (conference/text) and the muc feature."""
    (a,) = muc.new_clients("alice")
    r = muc.disco_info(a, muc.domain)
    assert_result(r)
    assert r.get("from") == muc.domain
    assert ("conference", "text") in [(c, t) for c, t, _ in identities(r)]
    assert NS_MUC in features(r) and NS_DISCO_INFO in features(r)


def test_service_disco_items_lists_only_the_requesters_rooms(muc):
    """§6.3 and issue 3: project rooms are hidden (not public); disco#items on the service lists
    only the rooms the requester is affiliated with, with their names."""
    (a, b, c) = muc.new_clients("alice", "bob", "carol")
    r1 = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), name="Kitchen")
    r2 = muc.project((a, "staff", "Alice"), name="Bathroom")
    r3 = muc.project((c, "client", "Carol"), name="Garden")

    def items(client):
        r = muc.iq(client, muc.domain, "get", f"<query xmlns='{NS_DISCO_ITEMS}'/>")
        assert_result(r)
        return {i.get("jid"): i.get("name") for i in r.iter(f"{{{NS_DISCO_ITEMS}}}item")}

    assert items(a) == {r1.jid: "Kitchen", r2.jid: "Bathroom"}
    assert items(b) == {r1.jid: "Kitchen"}
    assert items(c) == {r3.jid: "Garden"}
    (eve,) = muc.new_clients("eve")
    assert items(eve) == {}


def test_service_disco_items_hides_rooms_of_outcasts(muc):
    """§6.3: a banned user is not affiliated in the sense of membership: the room is not
    listed for them."""
    (a, o) = muc.new_clients("alice", "olga")
    room = muc.project((a, "client", "Alice"), (o, "staff", "Olga"))
    assert_result(muc.set_affiliation(o, room, a.bare, "outcast"))
    r = muc.iq(a, muc.domain, "get", f"<query xmlns='{NS_DISCO_ITEMS}'/>")
    assert room.jid not in {i.get("jid") for i in r.iter(f"{{{NS_DISCO_ITEMS}}}item")}, to_string(r)


def test_room_disco_info_identity_and_features(muc):
    """§6.4: the room returns its identity (conference/text, with the room name) and its
    features: members-only, non-anonymous, persistent, hidden, XEP-0359 stable ids, XEP-0421
    occupant ids, XEP-0410 self-ping optimisation — and none that contradicts them."""
    room, (a, o) = project_with(muc, ("alice", "client", "Alice"), ("olga", "staff", "Olga"))
    r = muc.disco_info(a, room.jid)
    assert_result(r)
    assert r.get("from") == room.jid
    assert identities(r) == [("conference", "text", "Kitchen")]
    f = features(r)
    assert ROOM_FEATURES <= f, ROOM_FEATURES - f
    assert not (f & CONTRADICTIONS), f & CONTRADICTIONS


def test_room_disco_info_has_the_roominfo_form(muc):
    """§6.4, §15.5.4: the muc#roominfo extended info form carries the description and the
    current number of occupants."""
    room, (a, b, o) = project_with(muc, ("alice", "client", "Alice"), ("bob", "designer", "Bob"),
                                   ("olga", "staff", "Olga"))
    f, types, x = roominfo(muc.disco_info(a, room.jid))
    assert f is not None, "no muc#roominfo form"
    assert x.get("type") == "result"
    assert types["FORM_TYPE"] == "hidden"
    assert f["muc#roominfo_description"] == ["Two walls and a window"]
    assert f["muc#roominfo_occupants"] == ["0"]
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    f, _, _ = roominfo(muc.disco_info(o, room.jid))
    assert f["muc#roominfo_occupants"] == ["2"]


def test_room_disco_info_for_a_stranger_reveals_no_project_details(muc):
    """§6.4 and issue 3 (rooms are confidential): a user who is not affiliated learns what kind
    of room it is (features, so that a join gets the right error) but not its name,
    description or subject."""
    room, (a,) = project_with(muc, ("alice", "client", "Alice"), name="Secret project",
                              description="Confidential")
    (eve,) = muc.new_clients("eve")
    r = muc.disco_info(eve, room.jid)
    assert_result(r)
    assert "muc_membersonly" in features(r)
    text = to_string(r)
    assert "Secret project" not in text and "Confidential" not in text


def test_room_disco_items_answers(muc):
    """§6.5: the room MAY list occupants or return an empty list when that is private; salon
    keeps them private: a result with no items."""
    room, (a,) = project_with(muc, ("alice", "client", "Alice"))
    muc.join(a, room, "Alice")
    r = muc.iq(a, room.jid, "get", f"<query xmlns='{NS_DISCO_ITEMS}'/>")
    assert_result(r)
    q = child(r, NS_DISCO_ITEMS, "query")
    assert q is not None
    assert all(i.get("jid", "").startswith(room.jid + "/") for i in children(q, NS_DISCO_ITEMS, "item"))


def test_disco_to_an_occupant_by_a_non_occupant_gets_bad_request(muc):
    """§6.6 (mucTestForRejectingDiscoOnRoomOccupantByNonOccupant): a disco request from a
    non-occupant to room@service/nick MUST get <bad-request/>."""
    room, (a, b) = project_with(muc, ("alice", "client", "Alice"), ("bob", "designer", "Bob"))
    muc.join(a, room, "Alice")
    r = muc.disco_info(b, room.occ("Alice"))
    assert_error(r, "bad-request")
    assert r.get("from") == room.occ("Alice")


def test_disco_info_on_a_missing_room_gets_item_not_found(muc):
    """XEP-0030 §3.1 / XEP-0045 §6.4: a room that does not exist → <item-not-found/> (cancel)."""
    (a,) = muc.new_clients("alice")
    rjid = f"{muc.new_pid()}@{muc.domain}"
    r = muc.disco_info(a, rjid)
    assert_error(r, "item-not-found", "cancel")
    assert r.get("from") == rjid


def test_disco_info_with_an_unknown_node_gets_item_not_found(muc):
    """XEP-0030 §3.2: an unknown node → <item-not-found/>, on the service and on a room."""
    room, (a,) = project_with(muc, ("alice", "client", "Alice"))
    assert_error(muc.disco_info(a, room.jid, node="urn:example:nothing"), "item-not-found")
    assert_error(muc.disco_info(a, muc.domain, node="urn:example:nothing"), "item-not-found")
