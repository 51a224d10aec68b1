"""The ask page."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def ask_page() -> HTMLResponse:
    page = (resources.files("groundwire.web") / "static" / "index.html").read_text()
    return HTMLResponse(page)
