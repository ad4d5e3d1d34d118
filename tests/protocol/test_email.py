"""The email plugin end to end (issue 13): members who missed messages get one digest email —
reliably, exactly once — through real clients, the real XMPP server, PostgreSQL and the stack's
SMTP sink (scripts/lib/smtp_sink.py). Every email is parsed with Python's email package.

The stack configures a 2 s delay, throttle steps of 3 s then 6 s, retries after 1-2 s
(scripts/lib/salond.sh); tests set a member's own delay through the API where they need
time to act before the digest is due.

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_email.py
"""
from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests

from email_support import (Mailbox, address_of, email_state, screenshot_html, set_email,
                           settled, wait_state)
from lib.stack import stack as stack_cmd
from muc_support import muc, muc_accounts, wait_until

__all__ = ["muc", "muc_accounts"]

ARTEFACTS = Path(__file__).resolve().parents[2] / ".run" / "test-results" / "screenshots"


@pytest.fixture
def mailbox(stack):
    box = Mailbox(stack)
    box.control()
    yield box
    box.control()


def offline_pair(muc, name="Living-room refresh"):
    """alice (joined, the client) and bob (never online, the designer) in a new project."""
    alice = muc.client(prefix="alice")
    bob = muc.user("bob")
    room = muc.project((alice, "client", "Alice"), (bob, "designer", "Bob"), name=name)
    muc.join(alice, room, "Alice")
    return alice, bob, room


def test_an_offline_member_gets_exactly_one_digest(muc, mailbox, http):
    """Issue 13: a member who missed messages gets one multipart/alternative digest after the
    delay, with RFC 8058 one-click unsubscribe headers; the sender gets none."""
    alice, bob, room = offline_pair(muc)
    for text in ("First idea", "Second idea", "Third idea"):
        muc.say_and_wait(alice, room, text)
    mail = mailbox.wait_for(address_of(bob))[0]
    msg = mail.msg
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Subject"] == "3 new messages in Living-room refresh"
    assert msg["To"].addresses[0].addr_spec == address_of(bob)
    assert msg["From"].addresses[0].addr_spec == "salon@localhost"
    assert re.fullmatch(r"<digest\.\d+\.[0-9a-f]{16}@rooms\.localhost>", msg["Message-ID"])
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<https?://\S+/email/unsubscribe\?jid=\S+&token=[A-Za-z0-9_-]{43}>",
                        msg["List-Unsubscribe"])
    text, html = mail.part("text/plain"), mail.part("text/html")
    for t in ("First idea", "Second idea", "Third idea"):
        assert t in text and t in html
    assert "Alice" in text
    assert f"/projects/{room.pid}" in text and f"/projects/{room.pid}" in html
    shot = screenshot_html(html, ARTEFACTS / "email_digest.png")
    assert shot is None or shot.stat().st_size > 1000
    # Nothing else can come: no row pending, the digest recorded as sent; alice got nothing.
    st = settled(http, bob.jid)
    assert [(d["state"], d["attempts"]) for d in st["recent"]] == [("sent", 1)]
    assert settled(http, alice.account.jid)["recent"] == []
    assert mailbox.to(address_of(alice)) == []
    assert len(mailbox.to(address_of(bob))) == 1


def test_joining_before_the_delay_cancels(muc, mailbox, http):
    """Issue 13: a member who joins the room before the email is due gets none."""
    alice, bob, room = offline_pair(muc)
    set_email(http, bob.jid, delay_seconds=4)
    muc.say_and_wait(alice, room, "Are you there?")
    wait_state(http, bob.jid, lambda s: len(s["pending"]) == 1, what="pending")
    bob_c = muc.client(bob)
    muc.join(bob_c, room, "Bob")
    assert settled(http, bob.jid)["recent"] == []  # cancelled: nothing left to send
    assert mailbox.to(address_of(bob)) == []


def test_writing_in_the_room_cancels_in_other_sessions_too(muc, mailbox, http):
    """A member who joins and writes from one device cancels what was pending for the room."""
    alice, bob, room = offline_pair(muc)
    set_email(http, bob.jid, delay_seconds=4)
    muc.say_and_wait(alice, room, "ping")
    wait_state(http, bob.jid, lambda s: len(s["pending"]) == 1, what="pending")
    bob_c = muc.client(bob)
    muc.join(bob_c, room, "Bob")
    muc.say_and_wait(bob_c, room, "pong")
    muc.leave(bob_c, room, "Bob")
    muc.say_and_wait(alice, room, "after you left")  # missed again: a new row
    st = wait_state(http, bob.jid, lambda s: len(s["pending"]) == 1, what="pending again")
    mail = mailbox.wait_for(address_of(bob), timeout=30)[0]
    assert mail.msg["Subject"] == "1 new message in Living-room refresh"
    assert "after you left" in mail.part("text/plain")
    assert "ping" not in mail.part("text/plain")  # read (he wrote after it)
    assert st["pending"][0]["project"] == room.pid


def test_markers_are_kept_as_read_state(muc, http, stack):
    """XEP-0333: a <displayed/> for a message the room stamped moves the member's read
    position (read_state, shared with other plugins) to that message."""
    import subprocess
    alice, bob, room = offline_pair(muc)
    bob_c = muc.client(bob)
    muc.join(bob_c, room, "Bob")
    got = muc.say_and_wait(alice, room, "read me")
    sid = next(s.get("id") for s in got.iter() if s.tag.endswith("stanza-id"))
    bob_c.send(f"<message to='{room.jid}' type='groupchat'>"
               f"<displayed xmlns='urn:xmpp:chat-markers:0' id='{sid}'/></message>")
    sql = ("SELECT s.stanza_id FROM read_state s JOIN rooms r ON r.id = s.room_id "
           f"WHERE r.jid_local = '{room.pid}' AND s.jid = '{bob.jid}'")

    def stored() -> str:
        out = subprocess.run([f"{stack['SALON_PG_BIN']}/psql", stack["SALON_PG_CONNINFO"],
                              "-Atqc", sql], capture_output=True, text=True, timeout=10)
        return out.stdout.strip()
    wait_until(lambda: stored() == sid, timeout=10, what="the read position stored")


def test_two_rooms_make_one_email(muc, mailbox, http):
    """Issue 13: all of a member's due notifications across rooms go in one email, grouped by
    project, oldest first."""
    alice = muc.client(prefix="alice")
    bob = muc.user("bob")
    r1 = muc.project((alice, "client", "Alice"), (bob, "designer", "Bob"), name="Kitchen")
    r2 = muc.project((alice, "client", "Alice"), (bob, "designer", "Bob"), name="Bathroom")
    set_email(http, bob.jid, delay_seconds=3)
    muc.join(alice, r1, "Alice")
    muc.join(alice, r2, "Alice")
    muc.say_and_wait(alice, r1, "kitchen tiles")
    muc.say_and_wait(alice, r2, "bathroom sink")
    muc.say_and_wait(alice, r2, "and the mirror")
    mail = mailbox.wait_for(address_of(bob))[0]
    assert mail.msg["Subject"] == "3 new messages in 2 projects"
    text = mail.part("text/plain")
    assert text.index("Kitchen") < text.index("Bathroom")  # oldest news first
    assert "kitchen tiles" in text and "and the mirror" in text
    assert [d["state"] for d in settled(http, bob.jid)["recent"]] == ["sent"]
    assert len(mailbox.to(address_of(bob))) == 1


def test_the_throttle_spaces_emails_for_one_room(muc, mailbox, http):
    """Issue 13 throttle: after an email for a room, the next waits throttle[0] (3 s in the
    stack), the one after throttle[1] (6 s)."""
    alice, bob, room = offline_pair(muc)
    set_email(http, bob.jid, delay_seconds=0)
    times = []
    for i in range(3):
        muc.say_and_wait(alice, room, f"round {i}")
        mails = mailbox.wait_for(address_of(bob), count=i + 1, timeout=30)
        times.append(mails[i].envelope["received_at"])
    assert times[1] - times[0] >= 3.0 - 0.3, times
    assert times[2] - times[1] >= 6.0 - 0.3, times
    texts = [m.part("text/plain") for m in mailbox.to(address_of(bob))]
    assert "round 0" in texts[0] and "round 1" in texts[1] and "round 2" in texts[2]
    assert "round 0" not in texts[1]  # each email has only what is new


def test_smtp_down_then_up_delivers_once_later(muc, mailbox, http):
    """Issue 13: an SMTP outage is a temporary failure: retried with backoff, delivered once
    when the server is back; /readyz stays 200 and names SMTP as degraded meanwhile."""
    alice, bob, room = offline_pair(muc)
    set_email(http, bob.jid, delay_seconds=0)
    stack_cmd("stop-smtp")
    try:
        muc.say_and_wait(alice, room, "while the mail server is down")
        wait_state(http, bob.jid, lambda s: s["recent"] and s["recent"][0]["attempts"] >= 1
                   and s["recent"][0]["state"] in ("retry", "claimed"), what="retrying")

        def degraded() -> bool:
            r = requests.get(http.base_url + "/readyz", timeout=5)
            return r.status_code == 200 and r.json()["checks"].get("smtp") == "degraded"
        wait_until(degraded, timeout=15, what="/readyz naming smtp as degraded")
    finally:
        stack_cmd("start-smtp")
    mails = mailbox.wait_for(address_of(bob), timeout=40)
    assert "while the mail server is down" in mails[0].part("text/plain")
    st = settled(http, bob.jid)
    assert st["recent"][0]["state"] == "sent" and st["recent"][0]["attempts"] >= 2
    assert len(mailbox.to(address_of(bob))) == 1


def test_a_permanent_refusal_is_recorded_and_not_retried(muc, mailbox, http):
    """Issue 13: a 5xx is permanent: recorded with the server's reply, never retried, and the
    address is shown as bouncing by the API."""
    alice, bob, room = offline_pair(muc)
    set_email(http, bob.jid, delay_seconds=0)
    mailbox.control(rcpt="550")
    muc.say_and_wait(alice, room, "to a dead address")
    st = wait_state(http, bob.jid, lambda s: s["recent"] and s["recent"][0]["state"] == "failed",
                    what="failed")
    assert "550" in st["recent"][0]["last_error"]
    assert st["bounce"]["address"] == address_of(bob) and "550" in st["bounce"]["reply"]
    mailbox.control()
    st = settled(http, bob.jid)  # failed is final: never retried
    assert [(d["state"], d["attempts"]) for d in st["recent"]] == [("failed", 1)]
    assert mailbox.to(address_of(bob)) == []
    # While bouncing, no more digests to that address; clearing the bounce resumes them.
    muc.say_and_wait(alice, room, "still bouncing")
    wait_state(http, bob.jid, lambda s: not s["pending"], what="dropped while bouncing")
    assert set_email(http, bob.jid, clear_bounce=True)["bounce"] is None


def test_killed_with_notifications_pending_delivers_once(muc, mailbox, http):
    """Issue 13: salond SIGKILLed while a notification is pending: it is sent after the
    restart, once."""
    alice, bob, room = offline_pair(muc)
    set_email(http, bob.jid, delay_seconds=3)
    muc.say_and_wait(alice, room, "before the crash")
    wait_state(http, bob.jid, lambda s: len(s["pending"]) == 1, what="pending")
    stack_cmd("restart-salond", "--kill")
    mails = mailbox.wait_for(address_of(bob), timeout=40)
    assert "before the crash" in mails[0].part("text/plain")
    assert [d["state"] for d in settled(http, bob.jid)["recent"]] == ["sent"]
    assert len(mailbox.to(address_of(bob))) == 1


def test_killed_between_the_send_and_its_record_never_sends_twice(muc, mailbox, http):
    """Issue 13 exactly once: the sink stores the message and stalls its 250; salond is
    SIGKILLed meanwhile. After the restart the digest is 'in_doubt' and not sent again."""
    alice, bob, room = offline_pair(muc)
    set_email(http, bob.jid, delay_seconds=0)
    mailbox.control(data_delay=8)
    muc.say_and_wait(alice, room, "one and only")
    mailbox.wait_for(address_of(bob), timeout=30)
    stack_cmd("restart-salond", "--kill")
    mailbox.control()
    st = wait_state(http, bob.jid, lambda s: s["recent"] and s["recent"][0]["state"] == "in_doubt",
                    timeout=30, what="in_doubt")
    assert st["recent"][0]["attempts"] == 1
    # After the restart the loop cannot know whether bob missed more before it: it queues
    # the room once more, and the sender finds nothing new to tell him.
    assert [d["state"] for d in settled(http, bob.jid)["recent"]] == ["in_doubt"]
    assert len(mailbox.to(address_of(bob))) == 1


def test_killed_before_the_end_of_data_sends_it_after_the_restart(muc, mailbox, http):
    """Issue 13 exactly once, the other side: killed while the SMTP transaction had not yet
    sent the message (the sink stalls MAIL FROM), the digest is sent after the restart, once."""
    alice, bob, room = offline_pair(muc)
    set_email(http, bob.jid, delay_seconds=0)
    mailbox.control(mail_delay=8)
    before = len(mailbox.events())
    muc.say_and_wait(alice, room, "sent after the crash")
    wait_until(lambda: any(e.startswith("mail ") for e in mailbox.events()[before:]), timeout=30,
               what="the sender in its SMTP transaction")
    stack_cmd("restart-salond", "--kill")
    mailbox.control()
    mails = mailbox.wait_for(address_of(bob), timeout=40)
    assert "sent after the crash" in mails[0].part("text/plain")
    assert [d["state"] for d in settled(http, bob.jid)["recent"]] == ["sent"]
    assert len(mailbox.to(address_of(bob))) == 1


def test_user_text_is_escaped_and_headers_cannot_be_injected(muc, mailbox, http):
    """Issue 13: user-written text is HTML-escaped in HTML; header values never carry CR/LF."""
    alice = muc.client(prefix="alice")
    bob = muc.user("bob")
    room = muc.project((alice, "client", "Alice <b>"), (bob, "designer", "Bob"),
                       name="Caf\u00e9 \u00abR\u00e9no\u00bb")
    muc.join(alice, room, "Alice <b>")
    muc.say_and_wait(alice, room, "<script>alert('x')</script> & <b>bold</b>")
    mail = mailbox.wait_for(address_of(bob))[0]
    html = mail.part("text/html")
    assert "<script>" not in html and "<b>bold" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html
    assert "<script>alert('x')</script>" in mail.part("text/plain")
    assert mail.msg["Subject"] == "1 new message in Caf\u00e9 \u00abR\u00e9no\u00bb"
    raw_subject = re.search(rb"^Subject: (.*(?:\r\n .*)*)\r\n", mail.raw, re.M).group(1)
    assert b"=?UTF-8?B?" in raw_subject  # RFC 2047 for non-ASCII
    headers = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\n" not in headers.replace(b"\r\n", b"")


def test_one_click_unsubscribe(muc, mailbox, http):
    """RFC 8058: a POST to the List-Unsubscribe URI turns the member's email off, without a
    login; a forged token, or another member's, is 403; a GET only shows a confirmation."""
    alice, bob, room = offline_pair(muc)
    muc.say_and_wait(alice, room, "hello")
    mail = mailbox.wait_for(address_of(bob))[0]
    url = mail.msg["List-Unsubscribe"].strip("<>")
    base = http.base_url
    assert url.startswith(base + "/email/unsubscribe?")
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "<form" in page.text
    assert email_state(http, bob.jid)["mode"] == "digest"  # a GET changes nothing
    forged = re.sub(r"token=[^&]+", "token=" + "A" * 43, url)
    assert requests.post(forged, data="List-Unsubscribe=One-Click", timeout=5).status_code == 403
    carol = muc.user("carol")
    other = re.sub(r"jid=[^&]+", "jid=" + carol.jid.replace("@", "%40"), url)
    assert requests.post(other, data="List-Unsubscribe=One-Click", timeout=5).status_code == 403
    r = requests.post(url, data="List-Unsubscribe=One-Click", timeout=5,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    assert email_state(http, bob.jid)["mode"] == "off"
    muc.say_and_wait(alice, room, "nobody will email this")
    muc.say_and_wait(alice, room, "barrier")  # the journal keeps order: the first is in
    assert [d["state"] for d in settled(http, bob.jid)["recent"]] == ["sent"]
    assert len(mailbox.to(address_of(bob))) == 1


def test_a_member_removed_before_the_email_is_due_gets_none(muc, mailbox, http):
    """Issue 13: a member removed from the project before the email is due gets no email."""
    alice, bob, room = offline_pair(muc)
    set_email(http, bob.jid, delay_seconds=4)
    muc.say_and_wait(alice, room, "you are about to be removed")
    wait_state(http, bob.jid, lambda s: len(s["pending"]) == 1, what="pending")
    room.members = [m for m in room.members if m.account.jid != bob.jid]
    muc.put(room)
    assert settled(http, bob.jid)["recent"] == []
    assert mailbox.to(address_of(bob)) == []


def test_muted_room_and_the_api_errors(muc, mailbox, http):
    """The preferences API: per-room mute, field-named 400s, unknown project 404."""
    alice, bob, room = offline_pair(muc)
    st = set_email(http, bob.jid, muted_projects=[room.pid], delay_seconds=0)
    assert st["muted_projects"] == [room.pid] and st["delay_seconds"] == 0
    muc.say_and_wait(alice, room, "muted")
    muc.say_and_wait(alice, room, "barrier")
    assert settled(http, bob.jid)["recent"] == []
    assert mailbox.to(address_of(bob)) == []
    for body, field in (({"mode": "weekly"}, "mode"), ({"delay_seconds": -1}, "delay_seconds"),
                        ({"delay_seconds": "5"}, "delay_seconds"), ({"colour": 1}, "colour"),
                        ({"muted_projects": "x"}, "muted_projects")):
        r = http.put(f"/api/v1/users/{bob.jid}/email", json=body)
        assert r.status_code == 400 and r.json()["field"] == field, (body, r.text)
    r = http.put(f"/api/v1/users/{bob.jid}/email", json={"muted_projects": ["no-such-project"]})
    assert r.status_code == 404 and r.json()["field"] == "muted_projects"
    assert http.get("/api/v1/users/not%20a%20jid/email").status_code == 400
    assert requests.get(http.base_url + f"/api/v1/users/{bob.jid}/email", timeout=5).status_code == 401
