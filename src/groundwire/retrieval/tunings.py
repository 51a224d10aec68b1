"""Which retrieval settings serve an index: ``TuningResolver``, the retriever's
``tuning_for(index)``, and ``material_change``, the rule for when an ingest re-tunes.

Order of precedence: an explicit ``retrieval.per_index`` entry (labelled ``groundwire tune``),
then the stored auto-tuning (table ``index_tuning``, written by ``tune --auto``,
``quality/autotune.py``) when ``autotune.enabled``, then the configured defaults.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from groundwire.settings import RetrievalSettings, RetrievalTuning

if TYPE_CHECKING:
    from groundwire.stores.base import Store

log = logging.getLogger(__name__)


class TuningResolver:
    """``tuning_for(index)`` for the retriever: explicit ``retrieval.per_index`` (labelled
    ``tune``) first, then the stored auto-tuning when ``autotune.enabled``, then the defaults.

    Auto-tunings are read from the store by ``reload`` (at open, after a save, and every
    ``autotune.refresh_s`` seconds by ``start``) so tunings saved by another process (the CLI)
    reach a running server without a restart.
    """

    def __init__(self, retrieval: RetrievalSettings, *, enabled: bool = True,
                 refresh_s: float = 30.0) -> None:
        self._retrieval = retrieval
        self._enabled = enabled
        self._refresh_s = refresh_s
        self.auto: dict[str, RetrievalTuning] = {}
        self.evidence: dict[str, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None

    def __call__(self, index: str) -> RetrievalTuning:
        explicit = self._retrieval.per_index.get(index)
        if explicit is not None:
            return explicit
        if self._enabled and index in self.auto:
            return self.auto[index]
        return self._retrieval.for_index(index)

    def source(self, index: str) -> str:
        """Where ``self(index)`` comes from: ``per_index`` | ``auto`` | ``default``."""
        if index in self._retrieval.per_index:
            return "per_index"
        return "auto" if self._enabled and index in self.auto else "default"

    async def reload(self, store: Store) -> None:
        records = await store.index_tunings()
        self.auto = {name: RetrievalTuning(**dict(r.params)) for name, r in records.items()}
        self.evidence = {name: {**dict(r.evidence), "generation": r.generation,
                                "created_at": r.created_at.isoformat(timespec="seconds")}
                         for name, r in records.items()}

    def start(self, store: Store) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(self._refresh_s)
                try:
                    await self.reload(store)
                except Exception as exc:  # noqa: BLE001 - keep serving the last tunings
                    log.warning("auto-tuning reload failed: %s", exc)

        if self._task is None and self._refresh_s > 0:
            self._task = asyncio.get_running_loop().create_task(loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def material_change(changed_documents: int, indexed_documents: int,
                    last: dict[str, Any] | None, *, min_documents: int,
                    min_change: float) -> bool:
    """Whether an ingest changed the corpus enough to re-tune: the index has at least
    ``min_documents`` documents and either was never tuned, or the documents changed by this
    ingest (indexed + deleted) are at least ``min_change`` of those it was last tuned on."""
    if indexed_documents < min_documents:
        return False
    if last is None:
        return True
    base = max(int(last.get("documents", 0)), 1)
    return changed_documents / base >= min_change
