"""The customer's lists (accounts, cards, payees, recent merchants) kept per conversation for a few seconds.

A signed-in turn reads slots against these lists; reading them from the bank on every turn was a
tenth of a loaded server's time (issue #26). An entry serves the same customer in the same
conversation only (a new conversation, or another customer signing in, reads the bank again), for
`ttl_s` at most, and every entry of a customer is dropped when an action that changes money or a
card runs for them in this process. What the bank changes by itself meanwhile (another replica, the
mobile app) shows within `ttl_s`; the lists only pick which account, card or payee was meant (the
bank checks every action itself) and balances are never shown from them.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from assistant.dialogue.actions import CustomerData

FIELDS = ("accounts", "cards", "payees", "merchants")  # CustomerData's lists, named as its parts


@dataclass(frozen=True, slots=True)
class _Entry:
    data: CustomerData
    read_at: float  # when its oldest list was read


class CustomerCache:
    def __init__(self, ttl_s: float, *, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.max_entries, self.clock = ttl_s, max_entries, clock
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._changed: dict[str, float] = {}  # customer -> when an action last changed their lists

    def get(self, customer_id: str, conversation: str) -> CustomerData | None:
        """The lists still fresh for this customer in this conversation (any parts), or None."""
        key = (customer_id, conversation)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self.clock() - entry.read_at >= self.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.data

    def put(self, customer_id: str, conversation: str, fetched: CustomerData, read_at: float,
            held: CustomerData | None = None) -> CustomerData:
        """`fetched` (read from `read_at` on) joined to `held`, the parts already kept; kept unless an
        action changed the customer's lists since `read_at`. Returns the joined lists."""
        data = fetched if held is None else replace(
            held, parts=held.parts | fetched.parts, **{f: getattr(fetched, f) for f in FIELDS if f in fetched.parts})
        if self.ttl_s <= 0 or self._changed.get(customer_id, float("-inf")) >= read_at:
            return data
        key = (customer_id, conversation)
        old = self._entries.get(key)
        self._entries[key] = _Entry(data, min(read_at, old.read_at) if old and held is not None else read_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return data

    def changed(self, customer_id: str) -> None:
        """An action changed (or may have changed) the customer's money or cards: read the bank again."""
        now = self.clock()
        self._changed[customer_id] = now
        for key in [k for k in self._entries if k[0] == customer_id]:
            del self._entries[key]
        if len(self._changed) > self.max_entries:  # a read started before the oldest of these has long ended
            horizon = now - max(self.ttl_s, 600.0)
            self._changed = {c: t for c, t in self._changed.items() if t >= horizon}
