"""Who an MCP caller is: the same API keys, scopes and dev mode as the REST API
(``api/deps.py``), without FastAPI.

* A ``gw_`` key is verified against the stored hash (``security/keys.py``); groups are read
  with it, so a group change applies at the next request.
* Without a Groundwire key, dev mode (``security.dev_mode``) acts as an admin of
  ``security.default_tenant``; otherwise ``Unauthenticated`` (``auth.missing_key``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from groundwire.app import Groundwire
from groundwire.errors import Forbidden, RateLimited
from groundwire.security.keys import authenticate
from groundwire.security.principal import SCOPES, Principal

if TYPE_CHECKING:
    from groundwire.stores.postgres.principals import PostgresPrincipals


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None when absent)."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def principal_for(gw: Groundwire, token: str | None) -> Principal:
    """The principal ``token`` stands for, as the REST API decides it."""
    security = gw.settings.security
    if security.dev_mode and not (token or "").startswith("gw_"):
        return Principal(tenant=security.default_tenant, user="dev", scopes=frozenset(SCOPES))
    return await authenticate(cast("PostgresPrincipals", gw.store), token)


async def admit(gw: Groundwire, principal: Principal, scope: str) -> None:
    """``Forbidden`` unless ``principal`` holds ``scope``; then one token from the key's rate
    limit bucket for that route class (``RateLimited`` when it is empty), as a REST call."""
    if not principal.allows(scope):
        raise Forbidden(f"this API key lacks the {scope!r} scope")
    limiter = getattr(gw, "rate_limiter", None)
    if limiter is None:
        return
    decision = await limiter.check(principal.name, scope)
    if not decision.allowed:
        raise RateLimited(
            f"rate limit for {scope} requests exceeded; retry in {decision.retry_after_s} s",
            retry_after=decision.retry_after_s, headers=decision.headers())
