"""What every dimension sees after the pass: ``Context``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from groundwire.assess.report import Section
from groundwire.assess.source import AssessedDocument
from groundwire.assess.spool import TextSpool
from groundwire.settings import Settings


@dataclass(slots=True)
class Context:
    """Shared state of one run. ``spool.get(i)`` is document ``i``'s cleaned text and
    ``uris[i]`` its uri; ``shared`` carries results between dimensions (``duplicates``
    publishes ``near_clusters`` before ``conflicts`` finishes)."""

    settings: Settings
    now: datetime
    uris: list[str]
    spool: TextSpool
    count_tokens: Callable[[str], int]
    window_tokens: int
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def documents(self) -> int:
        return len(self.uris)


class Dimension(Protocol):
    name: str

    def observe(self, doc: AssessedDocument, i: int) -> None: ...

    def finish(self, ctx: Context) -> Section: ...
