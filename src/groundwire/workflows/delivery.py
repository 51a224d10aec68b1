"""Signed callback delivery with retries (tenacity).

``deliver(url, secret, payload, ...)`` POSTs the JSON ``payload`` with
``Content-Type: application/json``, ``Groundwire-Signature`` (``signing.py``, re-signed on
every attempt so the timestamp is fresh) and ``Idempotency-Key: <delivery_id>`` (the same on
every attempt: a receiver that saw an attempt it could not acknowledge can drop the repeat).

Contract:

* An attempt is accepted on any 2xx status; delivery then stops: exactly one accepted
  attempt per delivery.
* Network errors, timeouts, 408, 425, 429 and 5xx are retried with exponential backoff
  (``backoff_s``, ``2 * backoff_s``, ... capped at 30 s) up to ``attempts`` in all; any
  other 4xx is final (retrying the same body cannot help).
* ``record(attempt, ok, status, error, ms)`` is awaited after every attempt, before the
  next; the secret and the URL's query never appear in ``error``.
* Returns a ``DeliveryResult``; never raises for an HTTP or network failure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from groundwire.workflows.signing import SIGNATURE_HEADER, sign_callback

Record = Callable[[int, bool, int | None, str | None, float], Awaitable[None]]
RETRYABLE_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    ok: bool
    attempts: int
    status: int | None
    error: str | None


class _Retryable(Exception):
    """One attempt failed in a way worth another try."""


async def deliver(url: str, secret: str, payload: dict[str, Any], *, delivery_id: str,
                  attempts: int, backoff_s: float, timeout_s: float, record: Record,
                  client: httpx.AsyncClient | None = None) -> DeliveryResult:
    """Deliver ``payload`` (see the module contract)."""
    from tenacity import (
        AsyncRetrying,
        RetryError,
        retry_if_exception_type,
        stop_after_attempt,
        wait_exponential,
        wait_none,
    )

    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    state: dict[str, Any] = {"n": 0, "status": None, "error": None}
    own = client is None
    http = client or httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)

    async def attempt() -> None:
        state["n"] += 1
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            response = await http.post(url, content=body, headers={
                "Content-Type": "application/json", "Idempotency-Key": delivery_id,
                SIGNATURE_HEADER: sign_callback(secret, body),
                "User-Agent": "groundwire-workflows"})
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: could not reach the callback"
        ok = status is not None and 200 <= status < 300
        if not ok and error is None:
            error = f"callback answered HTTP {status}"
        ms = round((time.perf_counter() - started) * 1000, 2)
        state["status"], state["error"] = status, None if ok else error
        await record(state["n"], ok, status, None if ok else error, ms)
        if ok:
            return
        if status is None or status >= 500 or status in RETRYABLE_STATUS:
            raise _Retryable(error)
        # any other 4xx: final, retrying the same body cannot help

    try:
        async for trial in AsyncRetrying(
                stop=stop_after_attempt(attempts),
                wait=wait_exponential(multiplier=backoff_s, max=30) if backoff_s else wait_none(),
                retry=retry_if_exception_type(_Retryable), reraise=False):
            with trial:
                await attempt()
    except RetryError:
        pass
    finally:
        if own:
            await http.aclose()
    ok = state["error"] is None and state["n"] > 0
    return DeliveryResult(ok=ok, attempts=state["n"], status=state["status"],
                          error=state["error"])
