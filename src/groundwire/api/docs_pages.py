"""The API's own description: ``/openapi.json`` and the interactive pages ``/docs`` (Swagger
UI) and ``/redoc``, as ``server.api_docs`` says (dev mode: ``public``).

* ``key`` (the default): ``/openapi.json`` for any valid API key; no interactive pages (a
  browser page cannot send the key with the schema request it makes itself).
* ``public``: all three without a key. The pages load their scripts, style sheet and icon from
  this server (``/docs-assets/``, the files the ``fastapi-offline`` wheel ships), never from a
  CDN, and Swagger UI's online validator is off: the pages make no request to another host.
* ``off``: none of them (404).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
PAGES = frozenset({"/docs", "/redoc"})


def mode_of(settings: Any) -> str:
    return "public" if settings.security.dev_mode else str(settings.server.api_docs)


def public_paths(mode: str) -> frozenset[str]:
    """Paths that need no key under ``mode`` (``ASSETS`` is a prefix, see ``is_public``)."""
    return frozenset({"/openapi.json", *PAGES}) if mode == "public" else frozenset()


def install(app: FastAPI, mode: str) -> None:
    if mode == "off":
        return
    from groundwire.api.deps import require

    dependencies = [Depends(require(None))] if mode == "key" else []

    @app.get("/openapi.json", include_in_schema=False, dependencies=dependencies)
    async def openapi_json() -> JSONResponse:
        return JSONResponse(app.openapi())

    if mode != "public":
        return
    assets = resources.files("fastapi_offline") / "static"
    app.mount(ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None})

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json", title=f"{app.title} — ReDoc",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png", with_google_fonts=False)
