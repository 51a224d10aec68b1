"""Reader tokens, permission parsing and API-key verification (no database)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from groundwire.domain.access import Access, Permissions, parse_permissions
from groundwire.errors import InvalidRequest, Unauthenticated
from groundwire.security.keys import authenticate, create_key, hash_secret, parse_lifetime
from groundwire.security.principal import Principal


def test_permission_forms_agree() -> None:
    as_map = parse_permissions({"users": ["ann", "*"], "groups": "eng, ops"})
    as_list = parse_permissions(["user:ann", "group:ops", "group:eng", "*"])
    as_text = parse_permissions("ann, group:eng, group:ops, *")
    assert as_map == as_list == as_text == Permissions(("ann",), ("eng", "ops"), True)


@pytest.mark.parametrize("bad", [
    {"users": ["a b"]}, {"user": ["ann"]}, {"everyone": "yes"}, 42, ["group:"], {"groups": 3},
])
def test_invalid_permissions_are_errors(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse_permissions(bad)


def test_empty_permissions_fail_closed() -> None:
    assert Permissions().readers("acme") == ["t:acme:admin"]
    reader = Principal("acme", "ann", scopes=frozenset({"search"})).access()
    admin = Principal("acme", "boss", scopes=frozenset({"admin"})).access()
    assert reader.admits("acme", Permissions().readers("acme")) is None
    assert admin.admits("acme", Permissions().readers("acme")) == "t:acme:admin"


def test_tokens_are_tenant_qualified() -> None:
    readers = parse_permissions({"users": ["ann"], "groups": ["eng"]}).readers("acme")
    ann_elsewhere = Principal("bravo", "ann", frozenset({"eng"}), frozenset({"admin"})).access()
    assert ann_elsewhere.admits("acme", readers) is None
    assert not set(ann_elsewhere.tokens) & set(readers)


def test_admits_names_the_most_specific_entry() -> None:
    readers = parse_permissions(["group:eng", "ann"]).readers("acme")
    admin_in_eng = Principal("acme", "zed", frozenset({"eng"}), frozenset({"admin"})).access()
    assert admin_in_eng.admits("acme", readers) == "t:acme:group:eng"
    assert Access.system().admits("any", []) == "system"


class FakeKeys:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    async def ensure_user(self, tenant: str, user: str) -> None:
        pass

    async def insert_key(self, **row: Any) -> None:
        self.rows[row["key_id"]] = {"tenant": row["tenant"], "user": row["user"],
                                    "secret_hash": row["secret_hash"], "scopes": row["scopes"],
                                    "expires_at": row["expires_at"], "revoked_at": None,
                                    "groups": ["eng"]}

    async def key_for_auth(self, key_id: str) -> dict[str, Any] | None:
        return self.rows.get(key_id)


def test_key_round_trip_and_refusals() -> None:
    store = FakeKeys()
    key = asyncio.run(create_key(store, tenant="acme", user="ann", scopes=["search", "ask"]))
    assert key.token.startswith(f"gw_{key.id}_")
    assert store.rows[key.id]["secret_hash"] == hash_secret(key.token.split("_", 2)[2])
    assert key.token.split("_", 2)[2] not in str(store.rows)  # only the hash is stored
    principal = asyncio.run(authenticate(store, key.token))
    assert (principal.tenant, principal.user, principal.groups) == ("acme", "ann",
                                                                     frozenset({"eng"}))
    assert principal.allows("ask") and not principal.allows("ingest")

    def refused(token: str | None) -> str:
        with pytest.raises(Unauthenticated) as info:
            asyncio.run(authenticate(store, token))
        return info.value.code

    assert refused(None) == "auth.missing_key"
    assert refused("Bearer nonsense") == "auth.invalid_key"
    assert refused(key.token[:-1] + ("A" if key.token[-1] != "A" else "B")) == "auth.invalid_key"
    store.rows[key.id]["expires_at"] = datetime.now(UTC) - timedelta(seconds=1)
    assert refused(key.token) == "auth.expired_key"
    store.rows[key.id]["revoked_at"] = datetime.now(UTC)
    assert refused(key.token) == "auth.revoked_key"


def test_key_creation_validates_input() -> None:
    store = FakeKeys()
    for kwargs in ({"scopes": []}, {"scopes": ["root"]}, {"user": "a b", "scopes": ["ask"]},
                   {"scopes": ["ask"], "expires_in": timedelta(0)}):
        args = {"tenant": "acme", "user": "ann", **kwargs}
        with pytest.raises(InvalidRequest):
            asyncio.run(create_key(store, **args))
    assert parse_lifetime("30d") == timedelta(days=30)
    assert parse_lifetime(None) is None
    with pytest.raises(InvalidRequest):
        parse_lifetime("soon")
