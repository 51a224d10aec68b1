"""Structured JSON logs: one line per event, extras as fields, never document text at INFO."""

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
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


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
