"""Section ``admission``: per-process admission control of the query routes (search, ask,
chat completions). See ``groundwire.api.admission`` for the contract and docs/operations.md
("Admission control") for sizing."""

from __future__ import annotations

from pydantic import Field

from groundwire.settings.base import _Section

DEFAULT_ADMITTED_PATHS = ("/v1/search", "/v1/ask", "/v1/chat/completions")


class AdmissionSettings(_Section):
    enabled: bool = Field(
        True, description="Bound the in-flight query requests of this process; beyond "
        "`max_in_flight` running and `queue_size` waiting, answer 503 `server.overloaded` "
        "with Retry-After. Health (/healthz, /readyz) and /metrics are never counted.",
    )
    max_in_flight: int = Field(
        16, ge=1, le=10000, description="Query requests (search, ask, chat) running at once "
        "in this process. Size it near the measured capacity (docs/benchmarks.md: overload); "
        "a streamed answer holds its slot until the stream ends.",
    )
    queue_size: int = Field(
        32, ge=0, le=100000, description="Query requests that may wait for a slot; 0 sheds "
        "as soon as every slot is taken.",
    )
    queue_timeout_s: float = Field(
        2.0, ge=0.0, le=300.0, description="Longest wait in the queue before the request is "
        "shed with 503 (bounds the latency an admitted request can pick up while queued).",
    )
    retry_after_s: int = Field(
        1, ge=1, le=3600, description="The Retry-After (seconds) sent with a shed request.",
    )
    paths: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ADMITTED_PATHS),
        description="Exact request paths under admission control.",
    )
