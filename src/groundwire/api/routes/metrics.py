"""``GET /metrics``: Prometheus text exposition of this process (``telemetry/metrics.py``).

Not in the OpenAPI schema (it is for scrapers, not API clients). 404 ``not_found`` when
``telemetry.metrics_enabled`` is false. Index gauges come from the store's ``stats()`` per
index, cached ``telemetry.stats_cache_s`` seconds; breaker states are read on every scrape.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from groundwire.api.deps import get_app, require
from groundwire.app import Groundwire
from groundwire.errors import NotFound
from groundwire.stores.base import IndexStats

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(require("operator"))])
async def metrics(request: Request, gw: Groundwire = Depends(get_app)) -> Response:
    telemetry = request.app.state.telemetry
    if telemetry.metrics is None:
        raise NotFound("metrics are disabled (telemetry.metrics_enabled = false)")

    async def stats() -> Sequence[IndexStats]:
        return [await gw.store.stats(name) for name in await gw.store.list_indexes()]

    llm = gw.answers.llm
    body = await telemetry.metrics.render(
        stats=stats, breaker_states=llm.chain.breaker_states if llm is not None else None
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)
