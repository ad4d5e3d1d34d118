"""XEP-0045 moderation and affiliation management in a project room (muc#admin), through the
real XMPP server with real clients: kicks and voice (§8.2, §8.4), bans and the ban list
(§9.1, §9.2), membership and the member list (§9.3-9.5), moderator status and the moderator
list (§9.6-9.8), and the permission rules (<forbidden/>, <not-allowed/>, <conflict/>).

Cast of every test: Olga (staff = owner), Alice (client = member), Bob (designer = member),
Dora (a member whom Olga makes admin over XMPP), Eve (not affiliated). Only the ones a test
needs are connected.

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_muc_admin.py
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from muc_support import (assert_error, assert_result, child, codes, item, item_el, muc, muc_accounts, presence_from)
from lib.xmlutil import NS_DISCO_INFO, NS_MUC_USER, to_string

__all__ = ["muc", "muc_accounts"]

NICKS = {"o": "Olga", "a": "Alice", "b": "Bob", "d": "Dora", "e": "Eve", "p": "Paul"}
ROLES = {"o": "staff", "p": "staff", "a": "client", "b": "designer", "d": "client"}


def cast(muc, who="oab", join="", admin=False):
    """Connects the given cast, provisions the room, makes Dora admin if asked, joins `join`."""
    who = "".join(sorted(set(who + join + ("od" if admin else "") + "o"), key="oadbep".index))
    clients = dict(zip(who, muc.new_clients(*[NICKS[w].lower() for w in who])))
    room = muc.project(*[(clients[w], ROLES[w], NICKS[w]) for w in who if w in ROLES])
    if admin:
        assert_result(muc.set_affiliation(clients["o"], room, clients["d"].bare, "admin"))
    for w in join:
        muc.join(clients[w], room, NICKS[w])
    return SimpleNamespace(room=room, **clients)


def presence_of(c, room, nick, unavailable=None, pred=lambda el: True):
    return c.wait_for(lambda el: presence_from(room.occ(nick), unavailable)(el) and pred(el),
                      5, f"presence of {nick}")


def outcasts(muc, c, room):
    return {i["jid"]: i for i in muc.list_items(muc.admin_list(c, room, affiliation="outcast"))}


def members(muc, c, room, aff="member"):
    return {i["jid"]: i for i in muc.list_items(muc.admin_list(c, room, affiliation=aff))}


def reason_of(p):
    it = item_el(p)
    r = None if it is None else child(it, NS_MUC_USER, "reason")
    return None if r is None else (r.text or "")


# --- §8.2 kick -------------------------------------------------------------------------------------

def test_kicked_occupant_gets_307_with_reason(muc):
    """§8.2 (mucTestOccupantInformedOfKick, mucPresenceTestForGettingKicked): the kicked
    occupant gets presence unavailable with status 307, role none, and the reason."""
    t = cast(muc, join="oab")
    assert_result(muc.set_role(t.o, t.room, "Alice", "none", reason="spam"))
    p = presence_of(t.a, t.room, "Alice", True)
    assert 307 in codes(p) and item(p)["role"] == "none", to_string(p)
    assert reason_of(p) == "spam"
    assert_error(muc.self_ping(t.a, t.room, "Alice"), "not-acceptable")


def test_kick_is_acknowledged_to_the_moderator(muc):
    """§8.2 (mucTestModeratorInformedOfKickSuccess): the service informs the moderator of
    success with an IQ result."""
    t = cast(muc, join="oa")
    r = muc.set_role(t.o, t.room, "Alice", "none")
    assert_result(r)
    assert r.get("from") == t.room.jid


def test_remaining_occupants_are_informed_of_a_kick(muc):
    """§8.2 (mucTestRemainingOccupantsInformedOfKick, mucPresenceTestForWitnessingKick):
    unavailable from the kicked occupant's JID with 307 to every remaining occupant."""
    t = cast(muc, join="oab")
    assert_result(muc.set_role(t.o, t.room, "Alice", "none"))
    for c in (t.b, t.o):
        p = presence_of(c, t.room, "Alice", True)
        assert 307 in codes(p) and 110 not in codes(p) and item(p)["role"] == "none"


def test_participant_may_not_kick(muc):
    """§8 (mucTestParticipantNotAllowedToKick): kicking is for moderators: <forbidden/>."""
    t = cast(muc, join="oab")
    assert_error(muc.set_role(t.a, t.room, "Bob", "none"), "forbidden")


def test_moderator_member_cannot_kick_an_admin(muc):
    """§8.2 (mucTestModeratorMemberCannotKickAdmin): a moderator cannot kick an admin or owner:
    <not-allowed/>."""
    t = cast(muc, join="oad", admin=True)
    assert_result(muc.set_role(t.o, t.room, "Alice", "moderator"))
    assert_error(muc.set_role(t.a, t.room, "Dora", "none"), "not-allowed")


def test_moderator_member_cannot_kick_an_owner(muc):
    """§8.2 (mucTestModeratorMemberCannotKickOwner)."""
    t = cast(muc, join="oa")
    assert_result(muc.set_role(t.o, t.room, "Alice", "moderator"))
    assert_error(muc.set_role(t.a, t.room, "Olga", "none"), "not-allowed")


def test_admin_cannot_kick_an_owner(muc):
    """§8.2 (mucTestModeratorAdminCannotKickOwner)."""
    t = cast(muc, join="od", admin=True)
    assert_error(muc.set_role(t.d, t.room, "Olga", "none"), "not-allowed")


def test_kicked_member_may_rejoin(muc):
    """§8.2: a kick is not a ban: the member may enter again."""
    t = cast(muc, join="oa")
    assert_result(muc.set_role(t.o, t.room, "Alice", "none"))
    presence_of(t.a, t.room, "Alice", True)
    muc.join(t.a, t.room, "Alice")


# --- §8.4 voice --------------------------------------------------------------------------------------

def test_revoking_voice_is_announced(muc):
    """§8.4, §5.1.3 (mucRoleTestForRevokingVoice, mucRoleTestForWitnessingRevokingVoice): the
    occupant's role becomes visitor; updated presence goes to everyone."""
    t = cast(muc, join="oab")
    assert_result(muc.set_role(t.o, t.room, "Alice", "visitor"))
    for c, me in ((t.a, True), (t.b, False)):
        p = presence_of(c, t.room, "Alice", False, lambda el: item(el).get("role") == "visitor")
        assert (110 in codes(p)) == me and item(p)["affiliation"] == "member"


def test_moderator_cannot_revoke_voice_from_an_owner(muc):
    """§5.1.1, §8.4 (mucTestModeratorCannotRevokeVoiceFromOwner): <not-allowed/>."""
    t = cast(muc, join="oad", admin=True)
    assert_error(muc.set_role(t.d, t.room, "Olga", "visitor"), "not-allowed")


def test_moderator_cannot_revoke_moderation_from_a_higher_affiliation(muc):
    """§5.1.3 (mucTestModeratorCannotBeRevokedFromHigherAffiliation): an admin SHOULD NOT be
    allowed to revoke moderation from an owner."""
    t = cast(muc, join="od", admin=True)
    assert_error(muc.set_role(t.d, t.room, "Olga", "participant"), "not-allowed")


# --- §9.1 ban ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", [None, "off topic"], ids=["without-reason", "with-reason"])
def test_ban_an_occupant(muc, reason):
    """§9.1 (testBanOccupantWith[out]OptionalReason): an owner bans an occupant; the <reason/>
    is optional."""
    t = cast(muc, join="oa")
    r = muc.set_affiliation(t.o, t.room, t.a.bare, "outcast", reason=reason)
    assert_result(r)
    p = presence_of(t.a, t.room, "Alice", True)
    assert reason_of(p) == reason


@pytest.mark.parametrize("reason", [None, "not welcome"], ids=["without-reason", "with-reason"])
def test_ban_a_non_occupant(muc, reason):
    """§9.1 (testBanNonOccupantWith[out]OptionalReason): a user who is not in the room can be
    banned too."""
    t = cast(muc, who="oe")
    assert_result(muc.set_affiliation(t.o, t.room, t.e.bare, "outcast", reason=reason))
    assert t.e.bare in outcasts(muc, t.o, t.room)


def test_participant_may_not_ban(muc):
    """§9 (testParticipantNotAllowedToBan): <forbidden/>."""
    t = cast(muc, who="oae", join="a")
    assert_error(muc.set_affiliation(t.a, t.room, t.e.bare, "outcast"), "forbidden")


def test_ban_of_an_occupant_is_by_bare_jid(muc):
    """§9.1 (testBanOccupantJidOnBanList): banning an occupant by nick puts their bare JID on
    the ban list."""
    t = cast(muc, join="oa")
    assert_result(muc.admin_set(t.o, t.room, "<item affiliation='outcast' nick='Alice'/>"))
    assert set(outcasts(muc, t.o, t.room)) == {t.a.bare}


def test_ban_of_a_full_jid_is_by_bare_jid(muc):
    """§9.1, §9.2 (testBanNonOccupantJidOnBanList, mucTestAdminBanListFullJid): a full JID in a
    ban is reduced to the bare JID on the list."""
    t = cast(muc, who="oe")
    assert_result(muc.set_affiliation(t.o, t.room, t.e.bare + "/phone", "outcast"))
    assert set(outcasts(muc, t.o, t.room)) == {t.e.bare}


def test_ban_removes_the_reserved_nick(muc):
    """§9.1 (testBanOccupantRemovesRegisteredNickname): the outcast's nick is no longer
    reserved: another member may take it."""
    t = cast(muc, join="o", who="oab")
    assert_result(muc.set_affiliation(t.o, t.room, t.a.bare, "outcast"))
    assert "nick" not in outcasts(muc, t.o, t.room)[t.a.bare]
    muc.join(t.b, t.room, "Alice")


def test_banned_occupant_gets_301(muc):
    """§9.1 (testBannedOccupantReceivesRemoval): presence unavailable with 301, affiliation
    outcast, role none, to the banned occupant."""
    t = cast(muc, join="oa")
    assert_result(muc.set_affiliation(t.o, t.room, t.a.bare, "outcast"))
    p = presence_of(t.a, t.room, "Alice", True)
    assert 301 in codes(p) and item(p)["affiliation"] == "outcast" and item(p)["role"] == "none"


def test_remaining_occupants_are_informed_of_a_ban(muc):
    """§9.1 (mucTestRemainingOccupantsInformedOfBan): unavailable from the banned user's
    occupant JID with 301 to every remaining occupant."""
    t = cast(muc, join="oab")
    assert_result(muc.set_affiliation(t.o, t.room, t.a.bare, "outcast"))
    p = presence_of(t.b, t.room, "Alice", True)
    assert 301 in codes(p) and 110 not in codes(p) and item(p)["affiliation"] == "outcast"


def test_admin_cannot_ban_self(muc):
    """§9.1 (mucTestAdminCannotBanSelf): <conflict/>."""
    t = cast(muc, admin=True)
    assert_error(muc.set_affiliation(t.d, t.room, t.d.bare, "outcast"), "conflict")


def test_owner_cannot_ban_self(muc):
    """§9.1 (mucTestOwnerCannotBanSelf): <conflict/>."""
    t = cast(muc)
    assert_error(muc.set_affiliation(t.o, t.room, t.o.bare, "outcast"), "conflict")


def test_admin_cannot_ban_an_owner(muc):
    """§9.1 (mucTestAdminCannotBanOwner): <not-allowed/>."""
    t = cast(muc, admin=True)
    assert_error(muc.set_affiliation(t.d, t.room, t.o.bare, "outcast"), "not-allowed")
    assert t.o.bare not in outcasts(muc, t.o, t.room)


# --- §9.2 ban list ----------------------------------------------------------------------------------

def test_admin_requests_the_ban_list(muc):
    """§9.2 (mucTestAdminRequestsBanList, mucTestAdminBanListItemCheck): the list of outcasts,
    each item with 'affiliation' and 'jid'."""
    t = cast(muc, who="oe", admin=True)
    assert_result(muc.set_affiliation(t.o, t.room, t.e.bare, "outcast"))
    items = muc.list_items(muc.admin_list(t.d, t.room, affiliation="outcast"))
    assert items == [{"affiliation": "outcast", "jid": t.e.bare}] or (
        len(items) == 1 and items[0]["affiliation"] == "outcast" and items[0]["jid"] == t.e.bare), items


def test_members_may_not_read_the_ban_list(muc):
    """§9.2: the ban list is for admins and owners (salon lets members read the member, admin
    and owner lists, not the ban list): <forbidden/>."""
    t = cast(muc, join="a")
    assert_error(muc.admin_list(t.a, t.room, affiliation="outcast"), "forbidden")


def test_ban_list_change_with_several_items(muc):
    """§9.2 (mucTestAdminBanListMultipleItems): several items in one set; success is
    reported and all are banned."""
    t = cast(muc)
    x, y = muc.user("x"), muc.user("y")
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='outcast' jid='{x.jid}'/>"
                                             f"<item affiliation='outcast' jid='{y.jid}'/>"))
    assert set(outcasts(muc, t.o, t.room)) == {x.jid, y.jid}


def test_ban_list_change_with_optional_attributes(muc):
    """§9.2 (mucTestAdminBanListMultipleItemsWithOptionalAttributes): items may carry a reason."""
    t = cast(muc)
    x, y = muc.user("x"), muc.user("y")
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='outcast' jid='{x.jid}'><reason>a</reason></item>"
                                             f"<item affiliation='outcast' jid='{y.jid}'><reason>b</reason></item>"))
    assert set(outcasts(muc, t.o, t.room)) == {x.jid, y.jid}


def test_unban_several_items(muc):
    """§9.2 (mucTestAdminBanListMultipleItemsUnban): affiliation 'none' lifts bans."""
    t = cast(muc)
    x, y = muc.user("x"), muc.user("y")
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='outcast' jid='{x.jid}'/>"
                                             f"<item affiliation='outcast' jid='{y.jid}'/>"))
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='none' jid='{x.jid}'/>"
                                             f"<item affiliation='none' jid='{y.jid}'/>"))
    assert outcasts(muc, t.o, t.room) == {}


def test_ban_list_change_is_a_delta(muc):
    """§9.2 (mucTestAdminBanListIsDelta): only the changed items are sent; earlier bans stay."""
    t = cast(muc)
    x, y = muc.user("x"), muc.user("y")
    assert_result(muc.set_affiliation(t.o, t.room, x.jid, "outcast"))
    assert_result(muc.set_affiliation(t.o, t.room, y.jid, "outcast"))
    assert set(outcasts(muc, t.o, t.room)) == {x.jid, y.jid}


def test_participant_may_not_modify_the_ban_list(muc):
    """§9 (testParticipantNotAllowedToModifyBanList): <forbidden/>."""
    t = cast(muc, join="a")
    x = muc.user("x")
    assert_error(muc.admin_set(t.a, t.room, f"<item affiliation='outcast' jid='{x.jid}'/>"), "forbidden")


def test_ban_list_change_removes_banned_occupants(muc):
    """§9.2 (mucTestBanListOccupantsInformedOfBan, ...RemainingOccupantsInformedOfBan): banned
    occupants are removed (301) and the remaining occupants are told."""
    t = cast(muc, join="oab")
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='outcast' jid='{t.a.bare}'/>"
                                             f"<item affiliation='outcast' jid='{muc.user('x').jid}'/>"))
    assert 301 in codes(presence_of(t.a, t.room, "Alice", True))
    assert 301 in codes(presence_of(t.b, t.room, "Alice", True))


def test_ban_list_change_removes_reserved_nicks(muc):
    """§9.2 (mucTestBanListRemovesRegisteredNickname)."""
    t = cast(muc, who="oab")
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='outcast' jid='{t.a.bare}'/>"))
    assert "nick" not in outcasts(muc, t.o, t.room)[t.a.bare]
    r = muc.disco_info(t.a, t.room.jid, node="x-roomuser-item")
    assert_result(r)
    assert len(child(r, NS_DISCO_INFO, "query")) == 0, to_string(r)


# --- §9.3-9.5 membership ------------------------------------------------------------------------------

def test_grant_membership(muc):
    """§9.3 (testGrantMembership, testMemberOnMemberList): an owner makes a user a member; the
    user is on the member list and can enter the members-only room."""
    t = cast(muc, who="oe")
    assert_result(muc.set_affiliation(t.o, t.room, t.e.bare, "member"))
    assert t.e.bare in members(muc, t.o, t.room)
    muc.join(t.e, t.room, "Eve")


def test_grant_membership_with_nick_reserves_it(muc):
    """§9.3 (testGrantMembershipWithNick): 'if a nick is provided, that nick becomes the user's
    default nick in the room'."""
    t = cast(muc, who="oe")
    assert_result(muc.set_affiliation(t.o, t.room, t.e.bare, "member", nick="Evie"))
    r = muc.disco_info(t.e, t.room.jid, node="x-roomuser-item")
    ids = [i.get("name") for i in r.iter(f"{{{NS_DISCO_INFO}}}identity")]
    assert ids == ["Evie"], to_string(r)


def test_grant_membership_with_reason(muc):
    """§9.3 (testGrantMembershipWithReason): the reason is optional and accepted."""
    t = cast(muc, who="oe")
    assert_result(muc.set_affiliation(t.o, t.room, t.e.bare, "member", reason="welcome"))


def test_participant_may_not_grant_membership(muc):
    """§9 (testParticipantNotAllowedToGrantMembership): <forbidden/>."""
    t = cast(muc, who="oae", join="a")
    assert_error(muc.set_affiliation(t.a, t.room, t.e.bare, "member"), "forbidden")


def test_granting_member_to_an_occupant_is_announced(muc):
    """§9.3 (mucTestOccupantsInformed): when the user is in the room, updated presence with
    affiliation member goes to all occupants (here an admin who becomes a plain member)."""
    t = cast(muc, join="obd", admin=True)
    assert_result(muc.set_affiliation(t.o, t.room, t.d.bare, "member"))
    for c in (t.b, t.o, t.d):
        presence_of(c, t.room, "Dora", False, lambda el: item(el).get("affiliation") == "member")


@pytest.mark.parametrize("reason", [None, "left the project"], ids=["without-reason", "with-reason"])
def test_revoke_membership(muc, reason):
    """§9.4 (testRevokeMembership[WithReason], testMemberNotOnMemberList): affiliation none; the
    user is no longer on the member list."""
    t = cast(muc)
    assert_result(muc.set_affiliation(t.o, t.room, t.a.bare, "none", reason=reason))
    assert t.a.bare not in members(muc, t.o, t.room)


def test_participant_may_not_revoke_membership(muc):
    """§9 (testParticipantNotAllowedToRevokeMembership): <forbidden/>."""
    t = cast(muc, join="a")
    assert_error(muc.set_affiliation(t.a, t.room, t.b.bare, "none"), "forbidden")


def test_revoked_member_is_removed_from_the_members_only_room_with_321(muc):
    """§9.4 (mucTestRemovalOfUserInMembersOnlyRoom, testMembershipRevokedInMemberOnlyRoom,
    mucTestOccupantsInformedRevoke, mucTestOccupantsInformedKick): the user is removed with
    status 321 and all remaining occupants are informed."""
    t = cast(muc, join="oab")
    assert_result(muc.set_affiliation(t.o, t.room, t.a.bare, "none"))
    p = presence_of(t.a, t.room, "Alice", True)
    assert 321 in codes(p) and item(p)["affiliation"] == "none" and item(p)["role"] == "none"
    q = presence_of(t.b, t.room, "Alice", True)
    assert 321 in codes(q) and 110 not in codes(q)
    assert_error(muc.join_error(t.a, t.room, "Alice"), "registration-required")


def test_room_cannot_be_made_open(muc):
    """§9.4/§9.5 open-room rows do not apply: project rooms are members-only by design; asking
    for an open room is refused with <not-acceptable/> and the room stays members-only."""
    t = cast(muc)
    assert_error(muc.submit_config(t.o, t.room, {"muc#roomconfig_membersonly": "0"}), "not-acceptable")
    r = muc.disco_info(t.o, t.room.jid)
    assert "muc_membersonly" in {f.get("var") for f in r.iter(f"{{{NS_DISCO_INFO}}}feature")}


@pytest.mark.parametrize("requester", ["owner", "admin", "member"])
def test_member_list_is_readable(muc, requester):
    """§9.5 (mucTestAdminRequestsMemberList, mucTestAdminMemberListItemCheck) and issue 3 (the
    room is non-anonymous and Converse waits for the lists on every join, so members may read
    them): each item has 'affiliation' and 'jid', and the reserved nick."""
    t = cast(muc, admin=True)
    c = {"owner": t.o, "admin": t.d, "member": t.a}[requester]
    got = members(muc, c, t.room)
    assert set(got) == {t.a.bare, t.b.bare}
    assert got[t.a.bare] == {"affiliation": "member", "jid": t.a.bare, "nick": "Alice"}


def test_member_list_is_not_readable_by_strangers(muc):
    """§9.5: a user without affiliation gets <forbidden/>."""
    t = cast(muc, who="oe")
    assert_error(muc.admin_list(t.e, t.room, affiliation="member"), "forbidden")


def test_member_list_change_with_several_items(muc):
    """§9.5 (mucTestAdminMemberListMultipleItems)."""
    t = cast(muc, who="o")
    x, y = muc.user("x"), muc.user("y")
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='member' jid='{x.jid}'/>"
                                             f"<item affiliation='member' jid='{y.jid}'/>"))
    assert {x.jid, y.jid} <= set(members(muc, t.o, t.room))


def test_member_list_revoke_several_items(muc):
    """§9.5 (mucTestAdminMemberListMultipleItemsRevoke, mucTestMemberListNoEntryAfterRevoke)."""
    t = cast(muc)
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='none' jid='{t.a.bare}'/>"
                                             f"<item affiliation='none' jid='{t.b.bare}'/>"))
    assert members(muc, t.o, t.room) == {}


def test_member_list_change_is_a_delta(muc):
    """§9.5 (mucTestAdminMemberListIsDelta): unchanged members stay."""
    t = cast(muc)
    x = muc.user("x")
    assert_result(muc.set_affiliation(t.o, t.room, x.jid, "member"))
    assert set(members(muc, t.o, t.room)) == {t.a.bare, t.b.bare, x.jid}


def test_member_list_revoke_informs_remaining_occupants(muc):
    """§9.5 (mucTestMemberListRemainingOccupantsInformedOfRevokeMemberOnlyRoom): revoked members
    in the room are removed with 321, the others are told."""
    t = cast(muc, join="oab")
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='none' jid='{t.a.bare}'/>"))
    assert 321 in codes(presence_of(t.b, t.room, "Alice", True))


def test_admin_may_manage_members(muc):
    """§9.3/§9.4: admins (not only owners) grant and revoke membership."""
    t = cast(muc, admin=True)
    x = muc.user("x")
    assert_result(muc.set_affiliation(t.d, t.room, x.jid, "member"))
    assert_result(muc.set_affiliation(t.d, t.room, x.jid, "none"))


# --- §9.6-9.8 moderators ---------------------------------------------------------------------------

@pytest.mark.parametrize("reason", [None, "helps out"], ids=["without-reason", "with-reason"])
def test_grant_moderator(muc, reason):
    """§9.6 (testGrantModerator, testGrantModeratorOptionalReason, testModeratorOnModeratorList,
    mucTestOccupantsInformed, mucRoleTestForReceivingModerator,
    mucRoleTestForWitnessingModerator): the role becomes moderator; updated presence to all."""
    t = cast(muc, join="oab")
    assert_result(muc.set_role(t.o, t.room, "Alice", "moderator", reason=reason))
    for c, me in ((t.a, True), (t.b, False)):
        p = presence_of(c, t.room, "Alice", False, lambda el: item(el).get("role") == "moderator")
        assert (110 in codes(p)) == me
    mods = muc.list_items(muc.admin_list(t.o, t.room, role="moderator"))
    assert "Alice" in {i.get("nick") for i in mods}


def test_participant_may_not_grant_moderator(muc):
    """§9 (testParticipantNotAllowedToGrantModeratorStatus): <forbidden/>."""
    t = cast(muc, join="ab")
    assert_error(muc.set_role(t.a, t.room, "Bob", "moderator"), "forbidden")


@pytest.mark.parametrize("reason", [None, "thanks"], ids=["without-reason", "with-reason"])
def test_revoke_moderator(muc, reason):
    """§9.7 (testRevokeModerator[WithReason], testModeratorNotOnModeratorList,
    mucTestOccupantsInformed, mucRoleTestForRemovingModerator,
    mucRoleTestForWitnessingModeratorRemoval)."""
    t = cast(muc, join="oab")
    assert_result(muc.set_role(t.o, t.room, "Alice", "moderator"))
    for c in (t.a, t.b):
        presence_of(c, t.room, "Alice", False, lambda el: item(el).get("role") == "moderator")
        c.inbox.drain()
    assert_result(muc.set_role(t.o, t.room, "Alice", "participant", reason=reason))
    for c, me in ((t.a, True), (t.b, False)):
        p = presence_of(c, t.room, "Alice", False, lambda el: item(el).get("role") == "participant")
        assert (110 in codes(p)) == me
    mods = muc.list_items(muc.admin_list(t.o, t.room, role="moderator"))
    assert "Alice" not in {i.get("nick") for i in mods}


def test_participant_may_not_revoke_moderator(muc):
    """§9 (testParticipantNotAllowedToRevokeModerator): <forbidden/>."""
    t = cast(muc, join="oab")
    assert_result(muc.set_role(t.o, t.room, "Alice", "moderator"))
    assert_error(muc.set_role(t.b, t.room, "Alice", "participant"), "forbidden")


def test_admin_may_not_revoke_moderator_from_an_admin(muc):
    """§9.7, §9.8 (testAdminNotAllowedToRevokeModeratorFromAdmin): <not-allowed/>."""
    t = cast(muc, who="oadb", join="od", admin=True)
    assert_result(muc.set_affiliation(t.o, t.room, t.b.bare, "admin"))
    muc.join(t.b, t.room, "Bob")
    assert_error(muc.set_role(t.d, t.room, "Bob", "participant"), "not-allowed")


def test_admin_may_not_revoke_moderator_from_an_owner(muc):
    """§9.7, §9.8 (testAdminNotAllowedToRevokeModeratorFromOwner): <not-allowed/>."""
    t = cast(muc, join="od", admin=True)
    assert_error(muc.set_role(t.d, t.room, "Olga", "participant"), "not-allowed")


def test_moderator_list_is_readable_by_moderators(muc):
    """§9.8 (mucTestAdminRequestsModeratorList, mucTestAdminModeratorListItemCheck): each item
    has role, nick and jid."""
    t = cast(muc, join="oad", admin=True)
    items = muc.list_items(muc.admin_list(t.d, t.room, role="moderator"))
    by_nick = {i["nick"]: i for i in items}
    assert set(by_nick) == {"Olga", "Dora"}
    assert by_nick["Olga"]["role"] == "moderator" and by_nick["Olga"]["jid"] == t.o.jid


def test_moderator_list_is_not_readable_by_participants(muc):
    """§9.8: only moderators (admins) read the role lists: <forbidden/>."""
    t = cast(muc, join="oa")
    assert_error(muc.admin_list(t.a, t.room, role="moderator"), "forbidden")


def test_moderator_list_change_with_several_items(muc):
    """§9.8 (mucTestAdminModeratorListMultipleItems, mucTestAdminModeratorListBroadcast)."""
    t = cast(muc, join="oab")
    assert_result(muc.admin_set(t.o, t.room, "<item nick='Alice' role='moderator'/><item nick='Bob' role='moderator'/>"))
    for nick in ("Alice", "Bob"):
        presence_of(t.o, t.room, nick, False, lambda el: item(el).get("role") == "moderator")
    nicks = {i["nick"] for i in muc.list_items(muc.admin_list(t.o, t.room, role="moderator"))}
    assert nicks == {"Olga", "Alice", "Bob"}


def test_moderator_list_revoke_several_items(muc):
    """§9.8 (mucTestAdminModeratorListMultipleItemsRevoke)."""
    t = cast(muc, join="oab")
    assert_result(muc.admin_set(t.o, t.room, "<item nick='Alice' role='moderator'/><item nick='Bob' role='moderator'/>"))
    assert_result(muc.admin_set(t.o, t.room, "<item nick='Alice' role='participant'/><item nick='Bob' role='participant'/>"))
    nicks = {i["nick"] for i in muc.list_items(muc.admin_list(t.o, t.room, role="moderator"))}
    assert nicks == {"Olga"}


def test_moderator_list_change_is_a_delta(muc):
    """§9.8 (mucTestAdminModeratorListIsDelta)."""
    t = cast(muc, join="oab")
    assert_result(muc.set_role(t.o, t.room, "Alice", "moderator"))
    assert_result(muc.set_role(t.o, t.room, "Bob", "moderator"))
    nicks = {i["nick"] for i in muc.list_items(muc.admin_list(t.o, t.room, role="moderator"))}
    assert nicks == {"Olga", "Alice", "Bob"}


def test_role_change_for_a_missing_nick_gets_an_error(muc):
    """§9.6: a role change names an occupant; no such occupant → an error (nothing changes)."""
    t = cast(muc, join="o")
    r = muc.set_role(t.o, t.room, "Nobody", "moderator")
    assert_error(r, {"item-not-found", "not-acceptable", "bad-request"})


def test_a_failing_item_leaves_the_whole_change_undone(muc):
    """§9.2/§9.5: a set with several items is one request: when one item is refused, the
    request fails and no item is applied."""
    t = cast(muc, admin=True)
    x = muc.user("x")
    r = muc.admin_set(t.d, t.room, f"<item affiliation='outcast' jid='{x.jid}'/>"
                                   f"<item affiliation='outcast' jid='{t.o.bare}'/>")
    assert r.get("type") == "error"
    assert outcasts(muc, t.o, t.room) == {}


def test_kick_removes_every_session_of_a_multi_session_occupant(muc):
    """§8.2 with a multi-session nick: each resource of the kicked occupant gets the 307
    presence, and none of them stays in the room."""
    t = cast(muc, join="oab")
    a2 = muc.client(t.a.account)
    muc.join(a2, t.room, "Alice")
    assert_result(muc.set_role(t.o, t.room, "Alice", "none"))
    for c in (t.a, a2):
        assert 307 in codes(presence_of(c, t.room, "Alice", True))
        assert_error(muc.self_ping(c, t.room, "Alice"), "not-acceptable")
    assert 307 in codes(presence_of(t.b, t.room, "Alice", True))


@pytest.mark.parametrize("nick", ["Bob", "bob"], ids=["same-nick", "other-case"])
def test_grant_membership_with_a_nick_reserved_by_another_member_gets_conflict(muc, nick):
    """§9.3 with §7.10 ('If the desired room nickname is already reserved for that room, the
    room MUST return a <conflict/> error'); salon's reserved nicks are unique ignoring case
    (docs/openapi.yaml). The other member keeps the reservation."""
    t = cast(muc, who="obe")
    assert_error(muc.set_affiliation(t.o, t.room, t.e.bare, "member", nick=nick), "conflict")
    assert t.e.bare not in members(muc, t.o, t.room)
    assert members(muc, t.o, t.room)[t.b.bare]["nick"] == "Bob"


def test_reserved_nick_granted_over_xmpp_is_usable(muc):
    """§9.3: 'that nick becomes the user's default nick in the room': a nick the service
    accepts as a reservation must be one the user can enter with; one it cannot accept (here
    longer than [muc] max_nick_chars) must be refused instead."""
    t = cast(muc, who="oe")
    nick = "N" * 80
    r = muc.set_affiliation(t.o, t.room, t.e.bare, "member", nick=nick)
    if r.get("type") == "error":
        assert_error(r, {"not-acceptable", "bad-request", "jid-malformed"})
    else:
        muc.join(t.e, t.room, nick)


def test_affiliation_changes_in_quick_succession_build_on_each_other(muc):
    """§9.3 then §10.6: membership with a reserved nick, then (before the first answer) admin
    status for the same user: both acknowledged, so the user is an admin who keeps the nick."""
    from lib.xmlutil import NS_MUC_ADMIN, attr
    t = cast(muc, who="oe")
    t.o.send(f"<iq type='set' id='g1' to={attr(t.room.jid)}><query xmlns='{NS_MUC_ADMIN}'>"
             f"<item affiliation='member' jid={attr(t.e.bare)} nick='Evie'/></query></iq>"
             f"<iq type='set' id='g2' to={attr(t.room.jid)}><query xmlns='{NS_MUC_ADMIN}'>"
             f"<item affiliation='admin' jid={attr(t.e.bare)}/></query></iq>")
    assert_result(t.o.wait_for(lambda el: el.get("id") == "g1"))
    assert_result(t.o.wait_for(lambda el: el.get("id") == "g2"))
    got = members(muc, t.o, t.room, "admin")
    assert got.get(t.e.bare, {}).get("nick") == "Evie", got
