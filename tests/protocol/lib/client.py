"""XmppClient: a real XMPP client (slixmpp) with a raw-XML interface for protocol tests.

slixmpp does the client's part of the protocol (TCP, SASL PLAIN without TLS on loopback,
resource binding); the test sends XML text and reads every stanza the server sends as an
ElementTree element, exactly as received. All clients share one asyncio loop that runs in a
background thread (ClientLoop), so tests stay plain synchronous code.

    loop = ClientLoop()
    c = XmppClient(loop, "alice@localhost", "pw", "127.0.0.1", 5222).connect()
    reply = c.iq(f"<iq type='get' id='{c.new_id()}' to='rooms.localhost'>"
                 f"<query xmlns='{NS_DISCO_INFO}'/></iq>")
    c.close()
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import logging
import threading
import xml.etree.ElementTree as ET
from typing import Any, Awaitable, Callable, Optional, TypeVar

import slixmpp

from .inbox import Inbox
from .xmlutil import NS_CLIENT, NS_STREAM, Predicate, new_id, ns, reply_to

T = TypeVar("T")
log = logging.getLogger("salon.tests.client")


class ClientLoop:
    """One asyncio event loop in a daemon thread, shared by all clients of a test session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="xmpp-clients", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Awaitable[T], timeout: float = 10.0) -> T:
        """Runs a coroutine on the loop and waits for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Schedules fn(*args) on the loop (in order with other calls), without waiting."""
        self.loop.call_soon_threadsafe(fn, *args)

    def close(self) -> None:
        """Cancels what still runs on the loop (slixmpp's send tasks), then stops it."""
        if not self.loop.is_running():
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.run(cancel_all(), 5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                self.loop.close()


class AuthFailed(Exception):
    pass


class _RawClient(slixmpp.ClientXMPP):
    """slixmpp client that copies every received stanza into an Inbox before handling it."""

    def __init__(self, jid: str, password: str, inbox: Inbox) -> None:
        super().__init__(jid, password)
        self["feature_mechanisms"].unencrypted_plain = True   # PLAIN on plain TCP (loopback)
        self.inbox = inbox

    def incoming_filter(self, xml: ET.Element) -> ET.Element:
        if ns(xml.tag) == NS_CLIENT or xml.tag == f"{{{NS_STREAM}}}error":
            self.inbox.put(copy.deepcopy(xml))   # slixmpp may modify its copy later
        return xml


class XmppClient:
    def __init__(self, loop: ClientLoop, jid: str, password: str, host: str, port: int,
                 name: Optional[str] = None) -> None:
        self._loop = loop
        self.host, self.port = host, int(port)
        self.password = password
        self.inbox = Inbox(name or jid)
        self.jid: str = jid           # the full JID once bound
        self._xmpp: Optional[_RawClient] = None
        self.disconnected = threading.Event()

    # --- connection --------------------------------------------------------------------------

    def connect(self, timeout: float = 10.0) -> "XmppClient":
        """Connects, authenticates and binds; raises AuthFailed or ConnectionError."""
        done: concurrent.futures.Future = concurrent.futures.Future()

        def settle(result: Any = None, error: Optional[BaseException] = None) -> None:
            if not done.done():
                done.set_exception(error) if error else done.set_result(result)

        async def start() -> None:
            xmpp = _RawClient(self.jid, self.password, self.inbox)
            xmpp.loop = self._loop.loop
            xmpp.add_event_handler("session_start", lambda _: settle(True))
            xmpp.add_event_handler("failed_all_auth", lambda _: settle(error=AuthFailed(self.jid)))
            xmpp.add_event_handler("connection_failed",
                                   lambda e: settle(error=ConnectionError(f"{self.host}:{self.port}: {e}")))
            xmpp.add_event_handler("disconnected", self._on_disconnected)
            xmpp.add_event_handler("disconnected",
                                   lambda reason: settle(error=ConnectionError(f"disconnected: {reason}")))
            self._xmpp = xmpp
            xmpp.connect((self.host, self.port), disable_starttls=True, force_starttls=False)

        self.disconnected.clear()
        self._loop.run(start(), timeout)
        try:
            done.result(timeout)
        except BaseException:
            self.close()
            raise
        assert self._xmpp is not None
        self.jid = str(self._xmpp.boundjid)
        return self

    def _on_disconnected(self, reason: Any) -> None:
        self.disconnected.set()

    @property
    def bare(self) -> str:
        return self.jid.split("/", 1)[0]

    @property
    def connected(self) -> bool:
        return self._xmpp is not None and not self.disconnected.is_set()

    def close(self, timeout: float = 5.0) -> None:
        xmpp = self._xmpp
        if xmpp is None:
            return

        async def stop() -> None:
            xmpp.cancel_connection_attempt()   # no retries after a failed connect
            if xmpp.transport is not None:
                await xmpp.disconnect(wait=2.0)
            task = getattr(xmpp, "_run_out_filters", None)   # slixmpp's sender, else it lingers
            if task is not None and not task.done():
                task.cancel()

        try:
            self._loop.run(stop(), timeout)
        except (concurrent.futures.TimeoutError, RuntimeError) as e:
            log.warning("%s: close: %r", self.jid, e)
        self._xmpp = None

    def __enter__(self) -> "XmppClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- stanzas -----------------------------------------------------------------------------

    def send(self, xml: str) -> None:
        """Sends XML text as is (one or more stanzas), in order with earlier sends."""
        if not self.connected:
            raise ConnectionError(f"{self.jid}: not connected")
        self._loop.call(self._send_now, xml)

    def _send_now(self, xml: str) -> None:
        if self._xmpp is not None and self._xmpp.transport is not None:
            self._xmpp.send_raw(xml)

    def wait_for(self, pred: Predicate, timeout: float = 5.0, what: str = "a matching stanza") -> ET.Element:
        return self.inbox.wait_for(pred, timeout, what)

    def expect_nothing(self, pred: Predicate, within: float = 1.0) -> None:
        self.inbox.expect_nothing(pred, within)

    def iq(self, xml: str, timeout: float = 5.0) -> ET.Element:
        """Sends an <iq/> (it must carry an id) and returns the result or error reply."""
        stanza_id = ET.fromstring(xml).get("id")
        if not stanza_id:
            raise ValueError("iq() needs an id attribute")
        self.send(xml)
        return self.wait_for(reply_to(stanza_id), timeout, f"reply to iq {stanza_id}")

    def new_id(self) -> str:
        return new_id("q")
