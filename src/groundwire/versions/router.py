"""Query-time alias resolution: which physical index, and which engine, serves a request for
a logical index name.

``VersionRouter.route`` makes one store round trip per request (``route_index``). A physical
index without a version row, or whose version tuple the process's own settings already give,
is served by the factory's default engine; any other version is served by the engine of its
recorded tuple (``settings_for_version``: its embedder, chunking, fusion weights, answer
settings, prompt), which ``EngineFactory.for_version`` builds on first use and caches by
physical index (a version's tuple never changes). A request is served wholly by the version
its alias pointed at when it arrived, so flipping the alias fails no request.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from groundwire.domain import SearchRequest
from groundwire.engine import EngineFactory, IndexEngine
from groundwire.engine.config import fingerprint, settings_for_version, version_tuple
from groundwire.settings import Settings
from groundwire.stores.base import Store


class VersionRouter:
    def __init__(self, store: Store, engines: EngineFactory) -> None:
        self._store = store
        self._engines = engines
        self._itself: dict[tuple[str, str], bool] = {}

    @property
    def settings(self) -> Settings:
        return self._engines.settings

    async def route(self, request: SearchRequest) -> tuple[SearchRequest, IndexEngine]:
        """(the request with its physical index, the engine serving that version)."""
        physical, engine = await self.resolve(request.index)
        routed = request if physical == request.index else replace(request, index=physical)
        return routed, engine

    async def resolve(self, index: str) -> tuple[str, IndexEngine]:
        """(the physical index ``index`` points at now, the engine serving that version):
        reads and writes (ingest) of a logical name both go to its live version."""
        physical, version = await self._store.route_index(index)
        if version is None or self._serves_itself(version):
            return str(physical), self._engines.default
        return str(physical), await self.engine_for(version)

    async def engine_for(self, version: dict[str, Any]) -> IndexEngine:
        """The engine of a version row (cached by its physical index)."""
        if self._serves_itself(version):
            return self._engines.default
        return await self._engines.for_version(
            version["physical"], lambda: settings_for_version(self.settings, version))

    def _serves_itself(self, version: dict[str, Any]) -> bool:
        """The process's own settings give this version's tuple (cached: settings are
        fixed)."""
        key = (version["physical"], version["fingerprint"])
        known = self._itself.get(key)
        if known is None:
            own = fingerprint(version_tuple(self.settings, version["physical"]))
            known = self._itself[key] = own == version["fingerprint"]
        return known
