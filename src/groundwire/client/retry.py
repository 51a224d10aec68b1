"""When the client tries a request again: a 429 or 503 answer, after the ``Retry-After``
the server sent (seconds or an HTTP date) or, without one, an exponential backoff; at most
``max_attempts`` tries, and never a wait over ``max_wait_s`` (a longer ``Retry-After`` is
not waited for: the error is raised at once, carrying ``retry_after``). Other statuses and
transport errors are not retried."""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState

RETRY_STATUSES = frozenset({429, 503})


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the ``Retry-After`` header asks for (None: absent or unreadable)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` tries in all (1 = never retry); ``backoff_s`` the first wait without
    ``Retry-After`` (doubling); ``max_wait_s`` the longest single wait."""

    max_attempts: int = 3
    backoff_s: float = 0.5
    max_wait_s: float = 30.0

    def delay(self, response: httpx.Response, attempt: int) -> float:
        asked = retry_after(response)
        if asked is not None:
            return asked
        return min(self.backoff_s * 2 ** (attempt - 1), self.max_wait_s)

    def should_retry(self, response: httpx.Response, attempt: int) -> bool:
        return (response.status_code in RETRY_STATUSES
                and self.delay(response, attempt) <= self.max_wait_s)

    def tenacity_args(self) -> dict[str, Any]:
        """Arguments for ``tenacity.Retrying`` / ``AsyncRetrying`` over a call returning an
        ``httpx.Response``; the last response is returned when the tries are spent."""
        from tenacity import retry_base, stop_after_attempt

        policy = self

        class _Retry(retry_base):
            def __call__(self, state: RetryCallState) -> bool:
                outcome = state.outcome
                if outcome is None or outcome.failed:
                    return False
                return policy.should_retry(outcome.result(), state.attempt_number)

        def wait(state: RetryCallState) -> float:
            assert state.outcome is not None
            return policy.delay(state.outcome.result(), state.attempt_number)

        def last(state: RetryCallState) -> Any:
            assert state.outcome is not None
            return state.outcome.result()

        return {"stop": stop_after_attempt(max(1, self.max_attempts)), "wait": wait,
                "retry": _Retry(), "retry_error_callback": last, "reraise": True}
