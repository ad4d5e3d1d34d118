"""A stored message that no longer parses (issue 12 §2): a row whose stanza is nested deeper
than salond's parser takes (64 levels; a salond without the link's depth limit archived such
stanzas) made every MAM page holding it an internal-server-error and the join history empty.
It is served as a placeholder instead, like a XEP-0424/0425 tombstone: the same XEP-0359
stanza-id, sender and time (XEP-0313 §4.2 <delay/>), a body saying it cannot be displayed.

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_archive_unreadable.py
"""
from __future__ import annotations

import re

import requests

from archive_support import NS_DELAY, archived, mam, psql, room_sid, say
from muc_support import NS_SID, assert_result, body, child, muc, muc_accounts

__all__ = ["muc", "muc_accounts"]

PLACEHOLDER = "[This message cannot be displayed: the archive can no longer read it.]"


def metric(stack, name: str) -> float:
    text = requests.get(stack["SALON_HTTP_URL"] + "/metrics", timeout=5).text
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert m, f"{name} not in /metrics"
    return float(m.group(1))


def test_an_unparsable_row_is_served_as_a_placeholder(muc):
    a, b, c = muc.new_clients("alice", "bob", "carol")
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), (c, "client", "Carol"))
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    sids = [say(muc, a, room, "first"), say(muc, b, room, "second"), say(muc, a, room, "third")]
    assert [r[0] for r in archived(muc.stack, room.pid)] == sids
    deep = '<message type="groupchat">' + "<x>" * 70 + "</x>" * 70 + "</message>"
    psql(muc.stack, f"UPDATE archive SET stanza = '{deep}' WHERE stanza_id = '{sids[1]}'")
    before = metric(muc.stack, "salon_archive_unreadable_rows_total")

    ans = mam(muc, c, room)
    assert_result(ans.reply)
    assert ans.ids == sids and ans.complete and ans.count == 3
    assert ans.bodies == ["first", PLACEHOLDER, "third"]
    held = ans.results[1]
    assert held.message.get("from") == room.occ("Bob") and held.message.get("type") == "groupchat"
    assert [s.get("id") for s in held.message.iter(f"{{{NS_SID}}}stanza-id")] == [sids[1]]
    assert held.stamp.endswith("Z")
    # A page that starts at it, too.
    assert mam(muc, c, room, rsm={"max": "1", "after": sids[0]}).ids == [sids[1]]

    join = muc.join(c, room, "Carol", history="<history maxstanzas='5'/>")
    hist = [s for s in join.stanzas if s.tag.endswith("message") and s is not join.subject]
    assert [room_sid(m, room.jid) for m in hist] == sids
    assert body(hist[1]) == PLACEHOLDER and child(hist[1], NS_DELAY, "delay") is not None
    # Served three times, counted once.
    assert metric(muc.stack, "salon_archive_unreadable_rows_total") == before + 1
