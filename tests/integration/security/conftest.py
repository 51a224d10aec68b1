"""A secured app (dev mode off) on real PostgreSQL, driven in process through TestClient.

``secured`` yields a ``Secured`` helper: ``key(tenant, user, scopes, groups)`` mints keys
straight in the store (the way ``groundwire keys create`` does), ``call(coro_fn, ...)`` runs a
coroutine on the app's event loop (store access), ``as_(token)`` gives request headers.
The fake embedder keeps these tests fast; the permission filter does not depend on the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient


class Secured:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.gw = client.app.state.groundwire  # type: ignore[attr-defined]

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async def run() -> Any:
            return await fn(*args, **kwargs)

        return self.client.portal.call(run)  # type: ignore[union-attr]

    def key(self, tenant: str, user: str, scopes: tuple[str, ...] = ("search", "ask"),
            groups: tuple[str, ...] = ()) -> str:
        from groundwire.security.keys import create_key

        token = self.call(create_key, self.gw.store, tenant=tenant, user=user, scopes=scopes)
        for group in groups:
            self.call(self.gw.store.ensure_group, tenant, group)
            self.call(self.gw.store.add_member, tenant, group, user)
        return token.token

    @staticmethod
    def as_(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def push(self, token: str, documents: list[dict[str, Any]], index: str = "default") -> Any:
        response = self.client.post("/v1/documents", headers=self.as_(token),
                                    json={"index": index, "documents": documents})
        assert response.status_code == 200, response.text
        return response.json()

    def search(self, token: str, query: str, index: str = "default", top_k: int = 10) -> Any:
        response = self.client.post("/v1/search", headers=self.as_(token),
                                    json={"query": query, "index": index, "top_k": top_k})
        assert response.status_code == 200, response.text
        return response.json()["hits"]


@pytest.fixture
def make_secured(make_settings: Callable[..., Any]) -> Iterator[Callable[..., Secured]]:
    """``make_secured(**security)``: a ``Secured`` app whose security section adds
    ``security`` (dev mode off); closed at the end of the test."""
    from groundwire.api.app import create_app

    clients: list[TestClient] = []

    def build(**security: Any) -> Secured:
        settings = make_settings(security={"dev_mode": False, **security},
                                 embedding={"provider": "fake"})
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        return Secured(client)

    try:
        yield build
    finally:
        for client in reversed(clients):
            client.__exit__(None, None, None)


@pytest.fixture
def secured(make_secured: Callable[..., Secured]) -> Secured:
    return make_secured()
