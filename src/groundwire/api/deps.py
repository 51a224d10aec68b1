"""FastAPI dependencies: the app facade and the authenticated principal.

Every route but ``/healthz`` and the static ask page depends on ``require(scope)``:

* ``Authorization: Bearer gw_<id>_<secret>`` is verified against the stored hash
  (``security/keys.py``); groups are read with it, so a group change applies at the next request.
* Dev mode (``security.dev_mode``, loopback only) lets requests *without* a Groundwire key
  act as an admin of ``security.default_tenant``; a presented ``gw_`` key is still verified.
* ``scope`` is one of search / ask / ingest / admin (admin implies all); ``None`` accepts any
  valid key; ``"operator"`` is an admin of the default tenant (installation-wide views:
  metrics, monitoring aggregates, assessments).
* The principal is put on ``request.state.principal`` for logs, audit and rate limits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from groundwire.app import Groundwire
from groundwire.errors import Forbidden
from groundwire.security.keys import authenticate
from groundwire.security.principal import SCOPES, Principal

if TYPE_CHECKING:
    from groundwire.stores.postgres.principals import PostgresPrincipals

bearer = HTTPBearer(auto_error=False, scheme_name="ApiKey",
                    description="An API key from `groundwire keys create`: "
                    "`Authorization: Bearer gw_<id>_<secret>`.")


def get_app(request: Request) -> Groundwire:
    gw: Groundwire = request.app.state.groundwire
    return gw


def principal_store(gw: Groundwire) -> PostgresPrincipals:
    """The store's tenants/users/groups/keys methods. Only ``PostgresStore`` has them (the
    ``Store`` protocol does not name them yet), so this says so in one place."""
    return cast("PostgresPrincipals", gw.store)


def dev_principal(tenant: str) -> Principal:
    return Principal(tenant=tenant, user="dev", scopes=frozenset(SCOPES))


async def current_principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    gw: Groundwire = Depends(get_app),
) -> Principal:
    """The verified caller (``Unauthenticated`` -> 401 otherwise)."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    security = gw.settings.security
    token = credentials.credentials if credentials else None
    if security.dev_mode and not (token or "").startswith("gw_"):
        # Dev mode ignores what is not a Groundwire key (e.g. the dummy api_key an OpenAI SDK
        # insists on); a Groundwire key is verified as always.
        principal = dev_principal(security.default_tenant)
    else:
        principal = await authenticate(principal_store(gw), token)
    request.state.principal = principal
    return principal


def require(scope: str | None) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting principals with ``scope`` (see the module docstring)."""

    async def dependency(
        request: Request,
        principal: Principal = Depends(current_principal),
        gw: Groundwire = Depends(get_app),
    ) -> Principal:
        if scope == "operator":
            if not (principal.is_admin
                    and principal.tenant == gw.settings.security.default_tenant):
                raise Forbidden("this operation needs an admin key of the operator tenant "
                                f"({gw.settings.security.default_tenant!r})")
        elif scope is not None and not principal.allows(scope):
            raise Forbidden(f"this API key lacks the {scope!r} scope")
        limiter = getattr(gw, "rate_limiter", None)
        if limiter is not None:
            from groundwire.security.ratelimit import apply_rate_limit

            await apply_rate_limit(request, limiter, principal.name,
                                   _route_class(scope))
        return principal

    return dependency


def _route_class(scope: str | None) -> str:
    return {"operator": "admin", None: "search"}.get(scope, scope or "search")
