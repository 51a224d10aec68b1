"""Incremental connectors: what changed at a source since a cursor.

A connector may implement ``IncrementalConnector`` besides ``Connector``: ``changes(cursor)``
lists only what changed since the state ``cursor`` (a JSON-able dict the connector returned
last time, None on the first run) and returns a ``ChangeSet``. The caller
(``groundwire.sources``) keeps the cursor between runs and never interprets it.

Contract:

* ``cursor=None`` (or a cursor the connector cannot use any more, e.g. a git commit that
  was force-pushed away): a **complete** listing, ``complete=True``; every item not in it is
  deleted at the source (the caller ingests with ``delete_missing``).
* otherwise ``complete=False``: ``items`` are the new and changed items, ``deleted`` the uris
  removed since the cursor; everything else is unchanged.
* Listing raises at once (``groundwire.errors.GroundwireError``, any ``OSError``...) when the
  source as a whole cannot be reached: the caller then deletes nothing.
* A failure of one item is that item's (its ``read()`` raises a coded ``ReadError``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from groundwire.domain import SourceItem


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What ``IncrementalConnector.changes`` found (see the module contract)."""

    items: list[SourceItem]
    deleted: list[str] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)
    complete: bool = True
    notes: dict[str, Any] = field(default_factory=dict)  # e.g. {"commit": ..., "diff": ...}


@runtime_checkable
class IncrementalConnector(Protocol):
    @property
    def source(self) -> tuple[str, str]: ...

    def items(self) -> Iterator[SourceItem]: ...

    def changes(self, cursor: dict[str, Any] | None) -> ChangeSet: ...
