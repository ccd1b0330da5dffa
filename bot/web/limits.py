"""In-process rate limiting: token buckets keyed by client or connection."""

from __future__ import annotations

import time
from collections import OrderedDict

from bot.exceptions import RateLimited


class TokenBucket:
    """Allows ``capacity`` events at once, refilled at ``capacity / period_s``."""

    def __init__(self, capacity: int, period_s: float) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / period_s
        self.tokens = float(capacity)
        self.updated = time.monotonic()

    def take(self, what: str) -> None:
        """Spend one token.

        Raises:
            RateLimited: The bucket is empty; says how long until it is not.
        """
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            raise RateLimited(
                f"too many {what}; please slow down",
                retry_after_s=(1 - self.tokens) / self.rate,
            )
        self.tokens -= 1


class KeyedLimiter:
    """A token bucket per key (e.g. client address), bounded in memory."""

    def __init__(
        self, capacity: int, period_s: float, what: str, max_keys: int = 100_000
    ) -> None:
        self.capacity = capacity
        self.period_s = period_s
        self.what = what
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str) -> None:
        """Spend one token of ``key``'s bucket (raises :class:`RateLimited`)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.capacity, self.period_s)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        bucket.take(self.what)
