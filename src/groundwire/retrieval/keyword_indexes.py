"""``KeywordIndexes``: the BM25 indexes of a process, per (index, tenant), kept up to date
with the store's generation, loaded from persisted snapshots when one matches
(``retrieval/keyword_snapshots.py``) and built from the store otherwise."""

from __future__ import annotations

import asyncio
import logging
import time

from groundwire.retrieval.keyword import Bm25Index, Bm25Params
from groundwire.retrieval.keyword_snapshots import KeywordSnapshots, SnapshotKey
from groundwire.stores.base import Store

log = logging.getLogger(__name__)


class KeywordIndexes:
    """BM25 indexes per (index name, tenant), rebuilt from the store when the index's
    generation moves. One index per tenant keeps term statistics (IDF, average length) — and
    so scores — computed over that tenant's documents only; ``None`` is all tenants (trusted
    in-process callers).

    A query never waits for a rebuild when an older index exists: it is served from the older
    snapshot while a rebuild runs in the background (chunks deleted since are dropped later when
    their rows are fetched). ``refresh`` rebuilds synchronously (after an ingest, at start-up).
    """

    def __init__(self, store: Store, params: Bm25Params | None = None,
                 snapshots: KeywordSnapshots | None = None) -> None:
        """``snapshots``: where built indexes are persisted and loaded from (None: every
        build reads the store)."""
        self._store = store
        self._params = params or Bm25Params()
        self._snapshots = snapshots
        self._indexes: dict[tuple[str, str | None], Bm25Index] = {}
        self._builds: dict[tuple[str, str | None], asyncio.Task[Bm25Index]] = {}
        self._saves: set[asyncio.Task[None]] = set()

    def loaded(self) -> dict[str, int]:
        """Index name -> generation of its oldest loaded snapshot."""
        out: dict[str, int] = {}
        for (name, _), idx in self._indexes.items():
            out[name] = min(out.get(name, idx.generation), idx.generation)
        return out

    async def refresh(self, index: str, tenant: str | None = None) -> Bm25Index:
        key = (index, tenant)
        task = self._builds.get(key)
        if task is None or task.done():
            task = asyncio.create_task(self._build(key))
            self._builds[key] = task
        return await asyncio.shield(task)

    async def refresh_index(self, index: str, tenant: str | None = None) -> None:
        """Rebuild every loaded snapshot of ``index`` (all tenants) and the one for
        ``tenant``: after an ingest, each reader's next query sees the new documents."""
        keys = {key for key in self._indexes if key[0] == index} | {(index, tenant)}
        await asyncio.gather(*(self.refresh(name, t) for name, t in sorted(keys, key=str)))

    def schedule_refresh(self, index: str, tenant: str | None = None) -> None:
        """Start a background rebuild unless one is already running."""
        key = (index, tenant)
        if key not in self._builds or self._builds[key].done():
            self._builds[key] = asyncio.create_task(self._build(key))

    async def get(self, index: str, tenant: str | None = None) -> Bm25Index:
        key = (index, tenant)
        current = self._indexes.get(key)
        generation = await self._store.generation(index)
        if current is not None and current.generation == generation:
            return current
        if current is None:
            return await self.refresh(index, tenant)
        self.schedule_refresh(index, tenant)
        return current

    async def _build(self, key: tuple[str, str | None]) -> Bm25Index:
        index, tenant = key
        started = time.perf_counter()
        epoch = None
        if self._snapshots is not None:
            epoch = await self._store.index_epoch(index)
            wanted = SnapshotKey(index, tenant, epoch, await self._store.generation(index),
                                 self._params)
            loaded = await asyncio.to_thread(self._snapshots.load, wanted)
            if loaded is not None:
                self._install(key, loaded)
                log.info("keyword_index_loaded", extra={
                    "index": index, "tenant": tenant, "generation": loaded.generation,
                    "chunks": len(loaded),
                    "ms": round((time.perf_counter() - started) * 1000, 1)})
                return loaded
        generation, chunks = await self._store.keyword_corpus(index, tenant)
        built = await asyncio.to_thread(Bm25Index, generation, chunks, self._params)
        self._install(key, built)
        log.info(
            "keyword_index_built",
            extra={"index": index, "tenant": tenant, "generation": generation,
                   "chunks": len(chunks),
                   "ms": round((time.perf_counter() - started) * 1000, 1)},
        )
        if self._snapshots is not None and epoch is not None:
            self._save(SnapshotKey(index, tenant, epoch, generation, self._params), built)
        return built

    def _install(self, key: tuple[str, str | None], index: Bm25Index) -> None:
        previous = self._indexes.get(key)
        if previous is None or previous.generation <= index.generation:
            self._indexes[key] = index

    def _save(self, key: SnapshotKey, index: Bm25Index) -> None:
        """Persist ``index`` in the background (a failure is logged: the next process
        builds from the store instead)."""
        snapshots = self._snapshots
        assert snapshots is not None

        async def save() -> None:
            try:
                await asyncio.to_thread(snapshots.save, key, index)
            except Exception as exc:  # noqa: BLE001 - a snapshot is an optimisation only
                log.warning("keyword snapshot of %s not written: %s", key.index, exc)

        task = asyncio.get_running_loop().create_task(save())
        self._saves.add(task)
        task.add_done_callback(self._saves.discard)

    async def drain(self) -> None:
        """Wait for snapshots being written (shutdown, tests)."""
        while self._saves:
            await asyncio.gather(*self._saves, return_exceptions=True)
