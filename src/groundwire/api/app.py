"""``create_app(settings)``: the FastAPI application. The lifespan opens the Groundwire facade
(starting the embedded PostgreSQL by default), warms the model and keyword indexes, and closes
everything on shutdown."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from groundwire import __version__
from groundwire.api import docs_pages
from groundwire.api.errors import error_response, install_error_handlers
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
from groundwire.security.hosts import is_loopback_host_header
from groundwire.settings import Settings

log = logging.getLogger("groundwire.api")


def create_app(settings: Settings, *, embedder: Embedder | None = None) -> FastAPI:
    from groundwire.api.admission import AdmissionMiddleware
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

    @app.middleware("http")
    async def key_required(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """401 before anything reads the body: a request without any key gets the same answer
        whatever it sends (the routes' ``require`` dependency verifies keys that are sent)."""
        if (settings.security.dev_mode or request.headers.get("authorization")
                or is_public(request.url.path)):
            return await call_next(request)
        return error_response(
            request, 401, "auth.missing_key",
            "an API key is required: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": 'Bearer realm="groundwire"'})

    @app.middleware("http")
    async def request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = rid
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-ID"] = rid
        log.info(
            "request",
            extra={"request_id": rid, "method": request.method, "path": request.url.path,
                   "status": response.status_code,
                   "ms": round((time.perf_counter() - started) * 1000, 2)},
        )
        return response

    if settings.security.dev_mode:
        @app.middleware("http")
        async def loopback_host_only(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            """Dev mode admits requests without a key: only under a loopback Host name, so
            a web page cannot reach it through DNS rebinding (security/hosts.py)."""
            if is_loopback_host_header(request.headers.get("host")):
                return await call_next(request)
            return error_response(
                request, 403, "auth.dev_mode_host",
                "dev mode answers only loopback Host names (localhost, 127.0.0.1, [::1]); "
                "serve with API keys (no --dev) to be reached under another name")

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
