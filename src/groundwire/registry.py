"""Name -> factory tables for each extension point.

Built-ins are registered exactly like third-party plugins: a third-party package adds an entry
point in the group ``groundwire.parsers`` (name: the media type it parses; value: a callable
``SourceItem -> ParsedDocument``) or ``groundwire.embedders`` (name: provider; value: a factory
``(EmbeddingSettings) -> Embedder``). Entry points are read when a table is first asked for,
never at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from groundwire.domain import ParsedDocument, SourceItem

Parser = Callable[[SourceItem], ParsedDocument]


def _plugins(group: str) -> dict[str, Any]:
    return {ep.name: ep.load() for ep in entry_points(group=group)}


@cache
def parsers() -> dict[str, Parser]:
    """Media type -> parser: built-ins, then plugins (a plugin may replace a built-in)."""
    from groundwire.ingest.parsers import BUILTIN_PARSERS

    return {**BUILTIN_PARSERS, **_plugins("groundwire.parsers")}


@cache
def embedders() -> dict[str, Callable[..., Any]]:
    """Provider name -> embedder factory taking EmbeddingSettings."""
    from groundwire.embedding.factories import BUILTIN_EMBEDDERS

    return {**BUILTIN_EMBEDDERS, **_plugins("groundwire.embedders")}
