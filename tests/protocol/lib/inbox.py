"""Stanzas received on one stream, waited for by predicate with a deadline."""
from __future__ import annotations

import queue
import threading
import time
import xml.etree.ElementTree as ET
from typing import Optional

from .xmlutil import Predicate, to_string


class StanzaTimeout(AssertionError):
    """Nothing matching arrived in time. The message lists what did arrive."""


class Inbox:
    """A thread-safe queue of received top-level elements.

    wait_for() returns the first element (oldest first) matching a predicate; elements that
    don't match stay in the inbox for later waits, so the order of waits needn't match the
    order of arrival.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: "queue.Queue[ET.Element]" = queue.Queue()
        self._pending: list[ET.Element] = []
        self._lock = threading.Lock()    # wait_for may be called from several threads
        self.received: list[ET.Element] = []   # everything, for failure messages

    def put(self, el: ET.Element) -> None:
        self.received.append(el)
        self._queue.put(el)

    def _take_pending(self, pred: Predicate) -> Optional[ET.Element]:
        for i, el in enumerate(self._pending):
            if pred(el):
                return self._pending.pop(i)
        return None

    def wait_for(self, pred: Predicate, timeout: float = 5.0, what: str = "a matching stanza") -> ET.Element:
        deadline = time.monotonic() + timeout
        with self._lock:
            found = self._take_pending(pred)
            while found is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StanzaTimeout(f"{self.name}: no {what} within {timeout:g}s; "
                                        f"received:\n{self.describe()}")
                try:
                    el = self._queue.get(timeout=left)
                except queue.Empty:
                    continue
                if pred(el):
                    found = el
                else:
                    self._pending.append(el)
            return found

    def expect_nothing(self, pred: Predicate, within: float = 1.0, what: str = "stanza") -> None:
        """Asserts that no matching element arrives for `within` seconds (or is pending)."""
        try:
            el = self.wait_for(pred, within)
        except StanzaTimeout:
            return
        raise AssertionError(f"{self.name}: unexpected {what}: {to_string(el)}")

    def drain(self) -> list[ET.Element]:
        """Everything not yet consumed by wait_for, oldest first; empties the inbox."""
        with self._lock:
            out, self._pending = self._pending, []
            while True:
                try:
                    out.append(self._queue.get_nowait())
                except queue.Empty:
                    return out

    def describe(self, last: int = 15) -> str:
        items = self.received[-last:]
        if not items:
            return "  (nothing)"
        skipped = len(self.received) - len(items)
        lines = [f"  ... {skipped} earlier"] if skipped else []
        lines += ["  " + to_string(el)[:600] for el in items]
        return "\n".join(lines)
