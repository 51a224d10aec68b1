"""FastAPI dependencies."""

from __future__ import annotations

import hashlib

from fastapi import Request

from groundwire.answering.service import ANONYMOUS
from groundwire.app import Groundwire


def get_app(request: Request) -> Groundwire:
    gw: Groundwire = request.app.state.groundwire
    return gw


def get_principal(request: Request) -> str:
    """Who the request is made as, for budgets: ``key:<16 hex>`` (a hash of the bearer
    token, never the token) or ``anonymous``. Keys are not yet verified here; the security
    release replaces this with the authenticated key's id."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ANONYMOUS
    return "key:" + hashlib.sha256(token.strip().encode()).hexdigest()[:16]
