"""Query-time alias resolution: which physical index, and which configuration, serves a
request for a logical index name.

``VersionRouter.route`` makes one store round trip per request (``route_index``). A physical
index without a version row, or whose version tuple the app's own settings already give, is
served by the app itself; any other version is served by a *view*: an app built from the
version's recorded tuple (``settings_for_version``: its embedder, chunking, fusion weights,
answer settings, prompt) on the same open store, created on first use and cached by physical
index (a version's tuple never changes). A request is served wholly by the version its alias
pointed at when it arrived, so flipping the alias fails no request.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from groundwire.domain import SearchRequest

if TYPE_CHECKING:
    from groundwire.app import Groundwire


class VersionRouter:
    def __init__(self) -> None:
        self._views: dict[str, tuple[Groundwire, Any]] = {}
        self.pinned: set[str] = set()  # physical indexes this app itself serves (a view)
        self._itself: dict[tuple[str, str], bool] = {}
        self._lock = asyncio.Lock()

    async def route(self, gw: Groundwire, request: SearchRequest
                    ) -> tuple[SearchRequest, Groundwire]:
        """(the request with its physical index, the app serving that version)."""
        physical, serving = await self.resolve(gw, request.index)
        routed = request if physical == request.index else replace(request, index=physical)
        return routed, serving

    async def resolve(self, gw: Groundwire, index: str) -> tuple[str, Groundwire]:
        """(the physical index ``index`` points at now, the app serving that version): reads
        and writes (ingest) of a logical name both go to its live version."""
        route_index = getattr(gw.store, "route_index", None)
        if route_index is None:
            return index, gw
        physical, version = await route_index(index)
        if version is None or physical in self.pinned or self._serves_itself(gw, version):
            return str(physical), gw
        return str(physical), await self._view(gw, version)

    def _serves_itself(self, gw: Groundwire, version: dict[str, Any]) -> bool:
        """The app's own settings give this version's tuple (cached: settings are fixed)."""
        from groundwire.versions.service import serves_itself

        key = (version["physical"], version["fingerprint"])
        known = self._itself.get(key)
        if known is None:
            known = self._itself[key] = serves_itself(gw.settings, version)
        return known

    async def _view(self, gw: Groundwire, version: dict[str, Any]) -> Groundwire:
        physical = version["physical"]
        cached = self._views.get(physical)
        if cached is not None:
            return cached[0]
        async with self._lock:
            cached = self._views.get(physical)
            if cached is None:
                from groundwire.versions.service import settings_for_version, version_view

                settings = settings_for_version(gw.settings, version)
                context = version_view(gw, settings, physical)
                view = await context.__aenter__()
                cached = self._views[physical] = (view, context)
        return cached[0]

    async def aclose(self) -> None:
        views, self._views = self._views, {}
        for _, context in views.values():
            await context.__aexit__(None, None, None)
