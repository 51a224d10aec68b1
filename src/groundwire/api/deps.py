"""FastAPI dependencies."""

from __future__ import annotations

from fastapi import Request

from groundwire.app import Groundwire


def get_app(request: Request) -> Groundwire:
    gw: Groundwire = request.app.state.groundwire
    return gw
