"""The archive's HTTP API through the real stack: the transcript (JSON and HTML, escaped,
streamed), purging a room's messages, and retention (global + per room) applied by the purge
job.

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_archive_http.py
"""
from __future__ import annotations

import html

from archive_support import NS_RETRACT, archived, mam, psql, say
from muc_support import muc, muc_accounts, wait_until

__all__ = ["muc", "muc_accounts"]

NASTY = "<script>alert('x')</script> & \"quotes\""


def room_with_two(muc):
    a, b = muc.new_clients("alice", "bob")
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), name="Logo <redesign>")
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    return room, a, b


def test_transcript_json_is_the_whole_conversation_in_order(muc):
    room, a, b = room_with_two(muc)
    s1 = say(muc, a, room, "hello")
    s2 = say(muc, b, room, NASTY)
    s3 = say(muc, a, room, "oops")
    s4 = say(muc, a, room, "retracted", f"<retract xmlns='{NS_RETRACT}' id='{s3}'/>")
    r = muc.http.get(f"/api/v1/projects/{room.pid}/transcript?format=json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["project"] == room.pid
    msgs = doc["messages"]
    assert [m["id"] for m in msgs] == [s1, s2, s3, s4]
    assert [m["nick"] for m in msgs] == ["Alice", "Bob", "Alice", "Alice"]
    assert msgs[1]["body"] == NASTY and msgs[1]["jid"] == b.bare
    assert msgs[2]["retracted"] is True and msgs[2]["body"] is None
    assert msgs[3]["kind"] == "retraction" and msgs[3]["replaces"] == s3
    assert all(m["time"].endswith("Z") for m in msgs)
    assert "<script>" not in r.text  # '<' is escaped even inside JSON strings


def test_transcript_html_is_escaped(muc):
    room, a, b = room_with_two(muc)
    say(muc, b, room, NASTY)
    r = muc.http.get(f"/api/v1/projects/{room.pid}/transcript?format=html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<script>" not in r.text and "Logo <redesign>" not in r.text
    assert html.escape(NASTY, quote=True).replace("&#x27;", "&apos;") in r.text
    assert "Logo &lt;redesign&gt;" in r.text and r.text.rstrip().endswith("</html>")
    # Nothing in the page may run or load, and no browser may sniff it into something else.
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    j = muc.http.get(f"/api/v1/projects/{room.pid}/transcript?format=json")
    assert j.headers["x-content-type-options"] == "nosniff"


def test_transcript_of_many_messages_is_complete(muc):
    """More than one internal page (500 rows): rows written straight to the table."""
    room, a, b = room_with_two(muc)
    first = say(muc, a, room, "first")
    psql(muc.stack, "INSERT INTO archive (room_id, stanza_id, ts, kind, nick, sender_jid, occupant_id, "
                    "body, stanza) SELECT room_id, stanza_id || '-' || g, ts, kind, nick, sender_jid, "
                    "occupant_id, body || ' ' || g, stanza FROM archive, generate_series(1, 1200) g "
                    f"WHERE stanza_id = '{first}'")
    msgs = muc.http.get(f"/api/v1/projects/{room.pid}/transcript").json()["messages"]
    assert [m["id"] for m in msgs] == [first] + [f"{first}-{g}" for g in range(1, 1201)]


def test_transcript_errors(muc):
    room, a, b = room_with_two(muc)
    assert muc.http.get(f"/api/v1/projects/{room.pid}/transcript?format=pdf").status_code == 400
    assert muc.http.get(f"/api/v1/projects/no-such-{room.pid}/transcript").status_code == 404
    assert muc.http.get(f"/api/v1/projects/{room.pid}/transcript", auth=False).status_code == 401


def test_delete_messages_purges_the_room_only(muc):
    room, a, b = room_with_two(muc)
    other, c, d = room_with_two(muc)
    for i in range(3):
        say(muc, a, room, f"to purge {i}")
    kept = say(muc, c, other, "kept")
    r = muc.http.delete(f"/api/v1/projects/{room.pid}/messages")
    assert r.status_code == 200 and r.json() == {"deleted": 3}
    assert mam(muc, a, room).ids == [] and archived(muc.stack, room.pid) == []
    assert mam(muc, c, other).ids == [kept]
    assert muc.http.delete(f"/api/v1/projects/no-such-{room.pid}/messages").status_code == 404
    # The room works on: new messages are archived again.
    empty = mam(muc, b, room)
    assert empty.ids == [] and empty.complete and empty.count == 0
    again = say(muc, b, room, "after purge")
    ans = mam(muc, a, room, rsm={"before": ""})
    assert ans.ids == [again] and ans.count == 1 and ans.rsm("first").get("index") == "0"


def test_room_retention_purges_expired_messages(muc):
    room, a, b = room_with_two(muc)
    old = [say(muc, a, room, f"old {i}") for i in range(2)]
    new = say(muc, b, room, "recent")
    url = f"/api/v1/projects/{room.pid}/retention"
    assert muc.http.get(url).json() == {"days": None, "inherited": True}
    assert muc.http.put(url, json={"days": "x"}).status_code == 400
    assert muc.http.put(url, json={"days": 0}).status_code == 400
    r = muc.http.put(url, json={"days": 1})
    assert r.status_code == 200 and r.json() == {"days": 1, "inherited": False}
    assert muc.http.get(url).json() == {"days": 1, "inherited": False}
    ids = ", ".join(f"'{s}'" for s in old)
    psql(muc.stack, f"UPDATE archive SET ts = now() - interval '2 days' WHERE stanza_id IN ({ids})")
    # The stack runs the purge job every second.
    wait_until(lambda: [r[0] for r in archived(muc.stack, room.pid)] == [new], 10,
               what="expired messages purged")
    ans = mam(muc, a, room, rsm={"max": "5", "before": ""})
    assert ans.ids == [new] and ans.count == 1 and ans.rsm("first").get("index") == "0"
    assert muc.http.delete(url).json() == {"days": None, "inherited": True}
    assert muc.http.put(f"/api/v1/projects/no-such-{room.pid}/retention",
                        json={"days": None}).status_code == 404
