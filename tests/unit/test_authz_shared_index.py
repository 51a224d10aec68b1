"""``tenant_index`` on the shared ``default`` index answers without a tenancy lookup (every
tenant may use it, so the lookup's answer never mattered: issue 23, a database round trip
less per search) and without the alias route (no caller used its physical name; the search
routes itself); any other index is still resolved, looked up and refused when not the
caller's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from groundwire.api.authz import index_owned, tenant_index
from groundwire.errors import NotFound
from groundwire.security.principal import Principal


class Store:
    def __init__(self, mine: bool) -> None:
        self.mine = mine
        self.lookups: list[tuple[str, str]] = []

    async def index_tenancy(self, index: str, tenant: str) -> tuple[bool, bool]:
        self.lookups.append((index, tenant))
        return self.mine, not self.mine


class Versions:
    def __init__(self) -> None:
        self.resolved: list[str] = []

    async def resolve(self, index: str) -> tuple[str, Any]:
        self.resolved.append(index)
        return f"{index}__v1", None


def _gw(mine: bool) -> Any:
    return SimpleNamespace(store=Store(mine), versions=Versions(), settings=SimpleNamespace(
        security=SimpleNamespace(default_tenant="default")))


def _principal() -> Principal:
    return Principal(tenant="acme", user="k", scopes=frozenset({"search"}))


async def test_the_shared_index_needs_no_lookup() -> None:
    gw = _gw(mine=False)
    assert await tenant_index(gw, _principal(), "default") == "default"
    assert await index_owned(gw, _principal(), "default") is False  # others' documents too
    assert gw.store.lookups == []
    assert gw.versions.resolved == []  # nor the alias route: the search itself routes it


async def test_another_index_is_looked_up_and_refused_when_not_the_callers() -> None:
    gw = _gw(mine=False)
    with pytest.raises(NotFound):
        await tenant_index(gw, _principal(), "theirs")
    assert gw.store.lookups == [("theirs__v1", "acme")]
    assert gw.versions.resolved == ["theirs"]
    mine = _gw(mine=True)
    assert await tenant_index(mine, _principal(), "ours") == "ours"
    assert await index_owned(mine, _principal(), "ours") is True
