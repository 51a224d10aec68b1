"""``create_app(settings)``: the FastAPI application. The lifespan opens the Groundwire facade
(starting the embedded PostgreSQL by default), warms the model and keyword indexes, and closes
everything on shutdown."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from groundwire import __version__
from groundwire.api import docs_pages
from groundwire.api.errors import install_error_handlers
from groundwire.api.openapi import install as install_openapi
from groundwire.api.routes import (
    admin,
    app_pages,
    assessments,
    audit,
    console,
    conversations,
    documents,
    health,
    ingest,
    jobs,
    monitoring,
    openai_compat,
    query,
    reviews,
    session,
    sources,
    tuning,
    upload,
    web,
    workflows,
)
from groundwire.api.text_guard import TextGuardMiddleware
from groundwire.embedding.base import Embedder
from groundwire.settings import Settings

log = logging.getLogger("groundwire.api")


def create_app(settings: Settings, *, embedder: Embedder | None = None) -> FastAPI:
    from groundwire.api.admission import AdmissionMiddleware
    from groundwire.api.request_middleware import (
        KeyRequiredMiddleware,
        LoopbackHostMiddleware,
        RequestIdMiddleware,
    )
    from groundwire.api.routes import metrics
    from groundwire.security.limits import BodyLimitMiddleware
    from groundwire.security.ratelimit import RateLimitHeadersMiddleware
    from groundwire.telemetry import Telemetry
    from groundwire.telemetry.middleware import TelemetryMiddleware

    telemetry = Telemetry.from_settings(settings.telemetry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from groundwire.bootstrap import build_app

        try:
            async with build_app(settings, embedder=embedder, telemetry=telemetry) as gw:
                await gw.warm()
                if gw.monitoring is not None:
                    gw.monitoring.start_background()  # periodic monitors, retention purge
                if settings.jobs.in_process_worker:
                    gw.start_worker()  # replicas: false, and run `groundwire worker`
                app.state.groundwire = gw
                yield
        finally:
            telemetry.shutdown()

    app = FastAPI(
        title="Groundwire API",
        version=__version__,
        description="Cited, verifiable answers over your documents. Every error has the shape "
        '`{"error": {"code", "message", "request_id", "details"}}`.',
        lifespan=lifespan,
        # the description and its pages are installed below, as server.api_docs says
        openapi_url=None, docs_url=None, redoc_url=None,
    )
    docs_mode = docs_pages.mode_of(settings)
    public = _PUBLIC_PATHS | docs_pages.public_paths(docs_mode)

    def is_public(path: str) -> bool:
        return path in public or path.startswith("/static/") or (
            docs_mode == "public" and path.startswith(docs_pages.ASSETS + "/"))
    app.state.telemetry = telemetry
    install_error_handlers(app)
    install_openapi(app)  # documents 401/403/429/400/413 (api/openapi.py)
    # Added before the request-id middleware below, so inside it: their responses carry
    # X-Request-ID. Body size limits (413) and RateLimit headers (security/); inside the
    # size limit, text PostgreSQL cannot store (NUL, lone surrogates) in the path, the query
    # or a JSON body is refused before any route runs (422, api/text_guard.py).
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(TextGuardMiddleware)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(AdmissionMiddleware, settings=settings.admission, metrics=telemetry.metrics)

    # Plain ASGI (api/request_middleware.py), not @app.middleware("http"): no extra task and
    # body copy per layer. Outermost first: dev-mode Host check, request id, key check.
    app.add_middleware(KeyRequiredMiddleware, dev_mode=settings.security.dev_mode,
                       is_public=is_public)  # 401 before anything reads the body
    app.add_middleware(RequestIdMiddleware)
    if settings.security.dev_mode:
        app.add_middleware(LoopbackHostMiddleware)  # dev mode: loopback Host names only

    app.add_middleware(session.WebSessionMiddleware, settings=settings)  # web app cookie
    # Added last, so outermost: the request span is current in the middleware above.
    app.add_middleware(TelemetryMiddleware, telemetry=telemetry)
    app.include_router(metrics.router)
    for module in (health, query, openai_compat, conversations, ingest, assessments, jobs,
                   documents, upload,
                   monitoring, admin, audit, tuning, workflows, reviews, sources, web,
                   session, app_pages, console):
        app.include_router(module.router)
    from groundwire.api.authz import tenant_index
    from groundwire.integrations.mcp_http import mount_mcp

    mount_mcp(app, check_index=tenant_index)  # MCP at /mcp (integrations/mcp_http.py)
    docs_pages.install(app, docs_mode)
    static = resources.files("groundwire.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


# Paths served without a key: liveness, the ask page shell and its static files (no data in
# any of them); the API's own description too when server.api_docs is "public" (docs_pages).
_PUBLIC_PATHS = frozenset({"/healthz", "/", "/signin"})
