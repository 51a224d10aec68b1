"""Ports of index versions and aliases, and of self-tuned retrieval settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from groundwire.stores.values import IndexTuningRecord


# ---------------------------------------------------------------------- versions, tuning
@runtime_checkable
class VersionStore(Protocol):
    """Index versions and the aliases routing a logical index name to a physical index
    (``versions/``).

    * ``resolve_index(name)``: the physical index the alias ``name`` points at, or ``name``
      itself when it has no alias. ``route_index(name)`` is that physical name with the
      version row of that physical index (keys ``logical``, ``version``, ``physical``,
      ``overrides``, ``config``, ``fingerprint``), None when it is not a version.
    * ``register_version`` adds the next version number of ``logical`` (1, 2, ...) and
      creates its physical index; the first one also creates the alias.
    * ``list_versions`` rows by version: ``logical``, ``version``, ``physical``, ``config``,
      ``fingerprint``, ``overrides``, ``state``, ``contract``, ``created_at``,
      ``promoted_at``; ``get_version`` one of them, ``NotFound`` when absent.
    * ``set_version_state`` sets the state (and the contract when given).
    * ``flip_alias`` points ``logical`` at ``physical`` in one step (readers see the old or
      the new target, never neither), makes that version ``live`` and the old live one
      ``retired``; returns the previous target. ``NotFound`` without an alias;
      ``InvalidRequest`` when ``expect`` is given and the alias points elsewhere.
    * ``alias``: row ``logical``, ``physical``, ``previous``, ``generation``, ``updated_at``
      or None. ``index_sources``: the sources of an index as rows (``kind``, ``location``,
      ``tenant``, ...), in creation order.
    """

    async def resolve_index(self, name: str) -> str: ...

    async def route_index(self, name: str) -> tuple[str, dict[str, Any] | None]: ...

    async def alias(self, logical: str) -> dict[str, Any] | None: ...

    async def list_versions(self, logical: str) -> list[dict[str, Any]]: ...

    async def get_version(self, logical: str, version: int) -> dict[str, Any]: ...

    async def register_version(
        self, logical: str, physical: str, config: dict[str, Any], fingerprint: str,
        overrides: dict[str, Any], *, state: str = "building",
    ) -> int: ...

    async def set_version_state(
        self, logical: str, version: int, state: str, contract: dict[str, Any] | None = None
    ) -> None: ...

    async def flip_alias(
        self, logical: str, physical: str, *, expect: str | None = None
    ) -> str: ...

    async def index_sources(self, index: str) -> list[dict[str, Any]]: ...


@runtime_checkable
class TuningStore(Protocol):
    """Self-tuned retrieval settings per index (``quality/autotune.py``).

    * ``save_index_tuning`` replaces the index's tuning (creating the index if needed);
      ``index_tunings`` returns every index's, by name; ``delete_index_tuning`` is True when
      there was one.
    """

    async def save_index_tuning(
        self, index: str, params: Mapping[str, Any], evidence: Mapping[str, Any],
        generation: int,
    ) -> None: ...

    async def index_tunings(self) -> dict[str, IndexTuningRecord]: ...

    async def delete_index_tuning(self, index: str) -> bool: ...
