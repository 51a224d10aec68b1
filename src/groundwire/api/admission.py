"""Admission control: a bounded number of in-flight query requests per process.

Contract (settings section ``admission``):

* Only requests whose path is in ``admission.paths`` (search, ask, chat completions by
  default) are governed; everything else — health (``/healthz``, ``/readyz``), ``/metrics``,
  ingest, admin — passes untouched and is never counted.
* At most ``max_in_flight`` governed requests run at once. A slot is held until the response
  is complete (a streamed answer holds it until the stream ends or the client leaves).
* When every slot is taken, up to ``queue_size`` requests wait, first come first served, for
  at most ``queue_timeout_s``. A request that finds the queue full, or waits past the timeout,
  is *shed*: ``503`` with ``Retry-After: retry_after_s`` and the stable error shape
  (code ``server.overloaded``), and ``groundwire_requests_shed_total{route}`` counts it.
  A shed request did no work: its body is not read and no route runs.
* A waiter whose client disconnects (task cancelled) leaves the queue without taking a slot;
  a slot handed to a waiter that was cancelled at the same moment is passed on, never lost.

The gate is per app, so per process: replicas each admit their own ``max_in_flight``.
``AdmissionGate`` holds no I/O and is usable (and unit-tested) without HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from groundwire.api.errors import error_response
from groundwire.settings import AdmissionSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OVERLOADED = "server.overloaded"


class AdmissionGate:
    """``max_in_flight`` slots and a FIFO queue of at most ``queue_size`` waiters.

    ``try_enter`` returns True when the caller holds a slot (then it must call ``leave``
    exactly once), False when the caller is shed (queue full or waited ``timeout_s``)."""

    def __init__(self, max_in_flight: int, queue_size: int, timeout_s: float) -> None:
        if max_in_flight < 1 or queue_size < 0 or timeout_s < 0:
            raise ValueError("max_in_flight >= 1, queue_size >= 0, timeout_s >= 0")
        self.max_in_flight = max_in_flight
        self.queue_size = queue_size
        self.timeout_s = timeout_s
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def try_enter(self) -> bool:
        if self.in_flight < self.max_in_flight and not self._waiters:
            self.in_flight += 1
            return True
        if len(self._waiters) >= self.queue_size or self.timeout_s == 0:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self.timeout_s)
            return True  # ``leave`` handed its slot to us: in_flight already counts it
        except TimeoutError:
            # the slot may have arrived just as the timer fired: then keep it
            return waiter.done() and not waiter.cancelled()
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # handed a slot while being cancelled: pass it on
            raise
        finally:
            if not waiter.done():
                waiter.cancel()
            with contextlib.suppress(ValueError):  # already popped by ``leave``
                self._waiters.remove(waiter)

    def leave(self) -> None:
        """Release a slot: hand it to the oldest live waiter, else free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves to it; in_flight is unchanged
                return
        self.in_flight -= 1


class AdmissionMiddleware:
    """Plain ASGI middleware applying one ``AdmissionGate`` to ``settings.paths``.

    ``metrics`` (a ``telemetry.metrics.Metrics`` or None) counts shed requests by route."""

    def __init__(self, app: ASGIApp, settings: AdmissionSettings, metrics: Any = None) -> None:
        self.app = app
        self.enabled = settings.enabled
        self.paths = frozenset(settings.paths)
        self.retry_after = str(settings.retry_after_s)
        self.gate = AdmissionGate(settings.max_in_flight, settings.queue_size,
                                  settings.queue_timeout_s)
        self.metrics = metrics
        if metrics is not None:
            metrics.declare_shed_routes(sorted(self.paths))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if not self.enabled or scope["type"] != "http" or path not in self.paths:
            await self.app(scope, receive, send)
            return
        if not await self.gate.try_enter():
            await self._shed(scope, receive, send, path)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave()

    async def _shed(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if self.metrics is not None:
            self.metrics.count_shed(path)
        request = Request(scope, receive)
        response = error_response(
            request, 503, OVERLOADED,
            "the server is at capacity for query requests; retry after the Retry-After delay",
            details={"retry_after_s": int(self.retry_after)},
            headers={"Retry-After": self.retry_after})
        await response(scope, receive, send)
