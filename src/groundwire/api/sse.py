"""Server-Sent Events helpers: format events, and start a stream only after its first event
so that errors raised before any output (unknown index, budget refused) still get the normal
JSON error response and status code."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse

from groundwire.errors import GroundwireError

log = logging.getLogger(__name__)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(data: Any, event: str | None = None) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n"


async def primed_stream(frames: AsyncIterator[str]) -> StreamingResponse:
    """Pull the first frame now (errors propagate as ordinary exceptions), then stream the rest.
    A GroundwireError after output has begun becomes an ``error`` event with the usual shape."""
    first = await anext(frames)

    async def body() -> AsyncIterator[str]:
        yield first
        try:
            async for frame in frames:
                yield frame
        except GroundwireError as exc:
            log.warning("stream_failed", extra={"code": exc.code})
            yield sse({"error": {"code": exc.code, "message": exc.message}}, event="error")

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)
