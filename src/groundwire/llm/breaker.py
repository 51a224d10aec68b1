"""A circuit breaker per provider.

closed ──(N consecutive failures, or failure share ≥ rate over the last `window` calls once
`min_calls` are in)──▶ open ──(after open_s)──▶ half-open: exactly one probe call is let
through; its success closes the circuit (history cleared), its failure re-opens it.

Written here rather than taken from pybreaker: pybreaker counts consecutive failures only (no
failure-rate window), its state changes are synchronous callbacks, and its async support needs
Tornado; what we need is ~60 lines with an injectable clock for tests.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

from groundwire.settings import BreakerSettings


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self, settings: BreakerSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._recent: deque[bool] = deque(maxlen=settings.window)  # True = failure
        self._consecutive = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._settings.open_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """Whether a call may go out now. In half-open, only the first caller gets True
        (the probe) until it reports back."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        if self._opened_at is not None:  # the probe succeeded: start afresh
            self._recent.clear()
            self._opened_at = None
        self._probing = False
        self._consecutive = 0
        self._recent.append(False)

    def record_failure(self) -> None:
        self._consecutive += 1
        self._recent.append(True)
        if self._opened_at is not None:  # a failed probe (or a straggler): open again
            self._opened_at = self._clock()
            self._probing = False
            return
        failures = sum(self._recent)
        rate_tripped = (
            len(self._recent) >= self._settings.min_calls
            and failures / len(self._recent) >= self._settings.failure_rate
        )
        if self._consecutive >= self._settings.consecutive_failures or rate_tripped:
            self._opened_at = self._clock()
            self._probing = False

    def release_probe(self) -> None:
        """The probe call was not made after all (e.g. the request's deadline ran out)."""
        self._probing = False
