"""Structured JSON logs: one line per event, extras as fields, never document text at INFO.

Inside an OpenTelemetry span (every HTTP request) a line also has ``trace_id`` and
``span_id``, the same trace id as the ``X-Trace-Id`` response header."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, Any

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": round(time.time(), 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        data.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        ids = _trace_ids()
        if ids is not None:  # inside an OpenTelemetry span (e.g. an HTTP request)
            data["trace_id"], data["span_id"] = ids
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def _trace_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` hex of the current OpenTelemetry span, None outside one."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Route the ``groundwire`` loggers to one JSON handler (idempotent)."""
    logger = logging.getLogger("groundwire")
    logger.setLevel(level)
    if not any(getattr(h, "_groundwire", False) for h in logger.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._groundwire = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
