"""Typed results. The server's own response models (``groundwire.api.schemas``) where the
API has them, so client and server agree by construction; small models of our own for the
rest. Unknown fields a newer server adds are ignored, not an error."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from groundwire.api.schemas import AskResponse, DocumentOut, DocumentsResponse, SearchResponse

__all__ = ["AskEvent", "AskResponse", "DocumentOut", "DocumentsResponse", "Feedback",
           "SearchResponse", "SseDecoder"]


class Feedback(BaseModel):
    """``POST /v1/feedback``'s answer: the stored feedback entry."""

    id: int
    record_id: str
    helpful: bool
    created_at: str


@dataclass(frozen=True)
class AskEvent:
    """One Server-Sent Event of ``ask_stream``: ``event`` is ``token`` ({text}), ``restart``
    ({reason, provider}: discard the text so far), ``citations``, ``verification`` or
    ``done``; ``answer`` is the whole ``AskResponse`` on ``done`` (its text is the verified
    answer, which may differ from the streamed tokens)."""

    event: str
    data: Any
    answer: AskResponse | None = field(default=None, compare=False)


class SseDecoder:
    """Feed the stream's lines one at a time; ``feed`` returns an event when a blank line
    ends one (``data:`` lines are joined with newlines and parsed as JSON)."""

    def __init__(self) -> None:
        self._event = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> AskEvent | None:
        line = line.rstrip("\r")
        if line == "":
            if not self._data:
                self._event = "message"
                return None
            raw, event = "\n".join(self._data), self._event
            self._event, self._data = "message", []
            try:
                data: Any = json.loads(raw)
            except json.JSONDecodeError:
                data = raw
            answer = AskResponse.model_validate(data) if event == "done" else None
            return AskEvent(event=event, data=data, answer=answer)
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None
