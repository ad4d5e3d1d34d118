"""A sustained groupchat load through the real XMPP server, with every message accounted for.

Each room has a few occupants; each occupant sends numbered messages at a steady rate (under
salond's flood limit, [muc] messages_per_second = 10). The body names the message
("fault <phase> <n>"), so a reflection is matched by body and an error by the stanza id. What
each client receives is tracked on the client loop's thread (TrackingInbox), not kept: at a
few thousand stanzas per second the protocol tests' Inbox (a deep copy of everything, kept for
failure messages) would be most of the cost. Everything else (joins, IQs) goes through the
usual Inbox, so the protocol helpers (MucWorld.join, self_ping) work unchanged.

Clients whose stream drops (the XMPP server restarted) are reconnected and rejoin their room
by themselves, as real clients do (Supervisor).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Optional

from lib.client import ClientLoop, XmppClient
from lib.inbox import Inbox
from lib.xmlutil import NS_CLIENT, NS_SID, error_condition, local
from muc_support import MucWorld, Room

PREFIX = "fault "


@dataclass
class Sent:
    """One message as its sender saw it."""
    n: int
    phase: str
    room: str            # room JID
    sender: str          # the sender's full JID
    stanza_id: str       # the id the client gave it (errors carry it back)
    t_sent: float
    reflected: Optional[str] = None      # the room's stanza-id, from the reflection to the sender
    reflections: int = 0                 # reflections the sender got (more than 1 = duplicate)
    t_reflected: float = 0.0
    error: Optional[str] = None          # the error condition the sender got back

    @property
    def body(self) -> str:
        return f"{PREFIX}{self.phase} {self.n}"

    @property
    def answered(self) -> bool:
        return self.reflected is not None or self.error is not None


@dataclass
class Cut:
    """A time when answers in flight were cut off: for one sender (its stream dropped at
    t_from = t_to), or for everyone (salond was SIGKILLed at t_from and started again at
    t_to)."""
    t_from: float
    t_to: float
    sender: Optional[str] = None

    def covers(self, s: Sent) -> bool:
        return (self.sender is None or self.sender == s.sender) and s.t_sent <= self.t_to


@dataclass
class Seen:
    """What one client (an occupant of one room) received of the load, in arrival order."""
    received: list[tuple[str, str]] = field(default_factory=list)   # (stanza-id, body)
    bodies: set[str] = field(default_factory=set)
    duplicates: list[str] = field(default_factory=list)   # bodies received more than once
    last_at: float = 0.0


class Tracker:
    """Every message sent and every reflection or error received. Written on the client loop's
    thread only (sends and receipts), read by the main thread after the load stopped."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.by_body: dict[str, Sent] = {}
        self.by_id: dict[str, Sent] = {}
        self.seen: dict[str, Seen] = {}      # full JID -> Seen
        self.cuts: list[Cut] = []
        self.events: list[tuple[float, str]] = []   # (time, what the fault did), for reports
        self._by_sender: dict[str, list[Sent]] = {}   # caches, see settled()
        self._memo: dict[tuple[str, str, float], float] = {}
        self.lock = threading.Lock()

    def record_send(self, phase: str, room: str, sender: str) -> Sent:
        with self.lock:
            n = len(self.sent)
            s = Sent(n, phase, room, sender, f"f{n}", time.monotonic())
            self.sent.append(s)
            self.by_body[s.body] = s
            self.by_id[s.stanza_id] = s
            return s

    def on_stanza(self, me: str, el: ET.Element) -> bool:
        """Takes a load stanza (True) or leaves it to the Inbox (False)."""
        if local(el.tag) != "message":
            return False
        if el.get("type") == "error":
            s = self.by_id.get(el.get("id", ""))
            if s is None:
                return False
            with self.lock:
                if s.error is None:
                    s.error = error_condition(el) or "?"
            return True
        b = el.find(f"{{{NS_CLIENT}}}body")
        text = b.text if b is not None else None
        if el.get("type") != "groupchat" or not text or not text.startswith(PREFIX):
            return False
        s = self.by_body.get(text)
        sid = next((x.get("id", "") for x in el.findall(f"{{{NS_SID}}}stanza-id")
                    if x.get("by") == el.get("from", "").split("/", 1)[0]), "")
        with self.lock:
            seen = self.seen.setdefault(me, Seen())
            if text in seen.bodies:
                seen.duplicates.append(text)
            seen.bodies.add(text)
            seen.received.append((sid, text))
            seen.last_at = time.monotonic()
            if s is not None and s.sender == me:
                s.reflections += 1
                if s.reflected is None:
                    s.reflected = sid
                    s.t_reflected = time.monotonic()
        return True

    def on_stream_dropped(self, me: str) -> None:
        now = time.monotonic()
        with self.lock:
            self.cuts.append(Cut(now, now, me))

    def event(self, what: str) -> None:
        self.events.append((time.monotonic(), what))

    def when(self, t: float) -> str:
        """t relative to the last fault event before it, e.g. '120 ms after stop-salond done'."""
        before = [e for e in self.events if e[0] <= t]
        if not before:
            return "before any fault"
        at, what = before[-1]
        return f"{(t - at) * 1000:.0f} ms after {what}"

    def in_flight(self, s: Sent) -> bool:
        """Unanswered because a fault cut it off (see cut_by)."""
        return self.cut_by(s) is not None

    def settled(self) -> None:
        """Messages may have been sent since the last cut_by: forget what it cached."""
        self._by_sender, self._memo = {}, {}

    def cut_by(self, s: Sent) -> Optional[Cut]:
        """The cut that explains why s got no answer, by order, not by time. A sender's
        messages travel one FIFO path (its stream, the server, the component link, the room)
        there and back, so s was in flight at a cut unless
        - a later message of its sender, sent before the cut ended, was reflected (then s was
          handled, and its answer is missing), or
        - an earlier message of its sender, sent after the cut began, was refused (then the
          server knew the component was gone before s came, and owed s an error too).
        What is left: held inside salond when it died, written by the server to salond's dead
        socket before it noticed, or on the sender's own stream when that dropped."""
        if s.answered:
            return None
        for c in self.cuts:
            if (c.covers(s) and self._last_reflected(s.sender, c.t_to) < s.n
                    and self._first_refused(s.sender, c.t_from) > s.n):
                return c
        return None

    def _mine(self, sender: str) -> list[Sent]:
        if sender not in self._by_sender:
            self._by_sender[sender] = [x for x in self.sent if x.sender == sender]
        return self._by_sender[sender]

    def _last_reflected(self, sender: str, until: float) -> int:
        """The highest n of sender's messages sent by `until` that were reflected (-1: none)."""
        key = ("r", sender, until)
        if key not in self._memo:
            self._memo[key] = max((x.n for x in self._mine(sender) if x.t_sent <= until and x.reflected),
                                  default=-1)
        return self._memo[key]

    def _first_refused(self, sender: str, since: float) -> float:
        """The lowest n of sender's messages sent from `since` on that were refused (inf: none)."""
        key = ("e", sender, since)
        if key not in self._memo:
            self._memo[key] = min((x.n for x in self._mine(sender) if x.t_sent >= since and x.error),
                                  default=float("inf"))
        return self._memo[key]


class TrackingInbox(Inbox):
    def __init__(self, name: str, me: "LoadClient", tracker: Tracker) -> None:
        super().__init__(name)
        self.me, self.tracker = me, tracker

    def put(self, el: ET.Element) -> None:
        if not self.tracker.on_stanza(self.me.jid, el):
            super().put(el)


class LoadClient:
    """One occupant: an XmppClient with a tracking inbox, its room and nick."""

    def __init__(self, muc: MucWorld, tracker: Tracker, room: Room, nick: str, account) -> None:
        self.muc, self.tracker, self.room, self.nick, self.account = muc, tracker, room, nick, account
        self.jid = f"{account.jid}/fault"
        self.client: Optional[XmppClient] = None
        self.joined = False
        self.rejoins = 0
        self.dropped = False      # set from the client loop when the stream goes away

    def connect_and_join(self, timeout: float = 10.0) -> None:
        stack = self.muc.stack
        c = XmppClient(self.muc.loop, self.jid, self.account.password, stack["SALON_XMPP_HOST"],
                       int(stack["SALON_C2S_PORT"]), name=self.jid)
        c.inbox = TrackingInbox(self.jid, self, self.tracker)
        c.account = self.account  # type: ignore[attr-defined]
        c.connect(timeout)
        self.jid = c.jid
        self.client = c
        self.dropped = False
        xmpp = c._xmpp
        assert xmpp is not None
        xmpp.add_event_handler("disconnected", lambda _r: self._on_drop())
        self.muc.join(c, self.room, self.nick, timeout=timeout)
        self.joined = True

    def _on_drop(self) -> None:
        self.joined = False
        self.dropped = True
        self.tracker.on_stream_dropped(self.jid)

    @property
    def ready(self) -> bool:
        return self.joined and self.client is not None and self.client.connected

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:   # its stream may be gone already
                pass


class Pacer:
    """Sends from every ready client at `rate` messages per second each, on the client loop
    (one coroutine, a tick every 20 ms, round robin), stamped with the current phase."""

    def __init__(self, loop: ClientLoop, tracker: Tracker, clients: list[LoadClient], rate: float) -> None:
        self.loop, self.tracker, self.clients, self.rate = loop, tracker, clients, rate
        self.phase = "warmup"
        self._stop = False
        self._future: Optional[concurrent.futures.Future] = None

    def start(self) -> None:
        self._future = asyncio.run_coroutine_threadsafe(self._run(), self.loop.loop)

    def stop(self) -> None:
        self._stop = True
        if self._future is not None:
            self._future.result(10)

    async def _run(self) -> None:
        start = time.monotonic()
        done = 0
        while not self._stop:
            due = int((time.monotonic() - start) * self.rate)   # sends per client so far
            if due - done > 2:
                done = due - 1   # the loop fell behind: skip, a burst would trip the flood limit
            for _ in range(done, due):
                for lc in self.clients:
                    self._send(lc)
            done = max(done, due)
            await asyncio.sleep(0.02)

    def _send(self, lc: LoadClient) -> None:
        c = lc.client
        xmpp = None if c is None else c._xmpp
        if not lc.ready or xmpp is None or xmpp.transport is None:
            return   # a client without a stream or room sends nothing (and counts nothing)
        s = self.tracker.record_send(self.phase, lc.room.jid, lc.jid)
        xmpp.send_raw(f"<message to='{lc.room.jid}' type='groupchat' id='{s.stanza_id}'>"
                      f"<body>{s.body}</body></message>")


class Supervisor:
    """Reconnects and rejoins clients whose stream dropped, as real clients do, retrying every
    0.3 s while the server is down."""

    def __init__(self, clients: list[LoadClient]) -> None:
        self.clients = clients
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-supervisor", daemon=True)
        self.errors: list[str] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def all_ready(self) -> bool:
        return all(lc.ready for lc in self.clients)

    def _run(self) -> None:
        with concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="fault-rejoin") as pool:
            while not self._stop.wait(0.3):
                down = [lc for lc in self.clients if lc.dropped]
                list(pool.map(self._rejoin, down))

    def _rejoin(self, lc: LoadClient) -> None:
        lc.close()
        try:
            lc.connect_and_join(timeout=5)
            lc.rejoins += 1
        except Exception as e:   # server still down, or salond not linked yet: next round
            lc.close()
            lc.dropped = True
            self.errors.append(f"{lc.jid}: {e!r}"[:300])
