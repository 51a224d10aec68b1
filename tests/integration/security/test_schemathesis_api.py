"""Schemathesis against the OpenAPI schema of a real ``groundwire serve`` on 127.0.0.1, dev
mode off, with two tenants' admin keys (issue 5 acceptance).

Contracts checked, for every operation in ``/openapi.json``:

* with a valid key (tenant ``acme`` user ``alice``, tenant ``globex`` user ``bob``; every scope,
  admin of their own tenant but not the operator): no 5xx, the status code is documented, the
  content type and body match the documented response, documented headers conform —
  over generated positive *and* negative (invalid) inputs;
* the same request without a key is 401;
* ``acme``'s ids (document, answer record, ingest job, API key, user, group, membership)
  presented with ``globex``'s key are 404 — the same answer as an id that does not exist — and
  the objects are untouched afterwards.

The server uses the fake embedder (the API contract does not depend on the model; it keeps the
module to a couple of minutes) and no rate limits (429s are tested in test_access_control).
``SCHEMATHESIS_MAX_EXAMPLES`` sets the quick run's examples per operation and mode (default
6); the slow-marked run uses 50.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from live_server import (
    LiveServer,
    _create_database,
    _drop_database,
    _stop,
    _wait_healthy,
    spawn_serve,
)
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.integration

# Examples per operation and generation mode (positive, negative), per key. The default run
# keeps the module near a minute; the slow run (``-m slow``) is the thorough one.
QUICK_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "6"))
THOROUGH_EXAMPLES = 50
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
PUBLIC = {("GET", "/healthz")}  # the only operation in the schema that needs no key
TENANT_A, TENANT_B = "acme", "globex"


@dataclass
class Fixture:
    server: LiveServer
    keys: dict[str, str]  # tenant -> token (admin of that tenant, every scope)
    spare_key_id: str  # a second key of tenant A (only ever presented to B's revoke)
    ids: dict[str, Any] = field(default_factory=dict)  # tenant A's ids

    def headers(self, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[tenant]}"}


def _with_store(db_url: str, work: Any) -> Any:
    from groundwire.bootstrap import build_store
    from groundwire.settings import Settings

    async def main() -> Any:
        store = build_store(Settings(database_url=db_url))
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(main())


@pytest.fixture(scope="module")
def api(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    from groundwire.security.keys import create_key
    from groundwire.security.principal import SCOPES

    workdir = tmp_path_factory.mktemp("schemathesis")
    files = workdir / "acme-files"  # the one server folder tenant A's keys may ingest
    files.mkdir()
    (files / "notes.md").write_text("# Acme notes\n\nThe acme canary is tangerine-47.\n")
    db_name, db_url = _create_database(pg_admin_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    env.update(
        GROUNDWIRE_DATABASE_URL=db_url, GROUNDWIRE_DATA_DIR=str(workdir / "data"),
        GROUNDWIRE_SECURITY__DEV_MODE="false",
        GROUNDWIRE_SERVER__API_DOCS="public",  # the schema is fetched without a key
        GROUNDWIRE_SECURITY__INGEST_ROOTS=json.dumps([str(files)]),
        GROUNDWIRE_EMBEDDING__PROVIDER="fake",
        PYTHONUNBUFFERED="1",
        **{f"GROUNDWIRE_SECURITY__RATE_LIMIT__{c}__REQUESTS_PER_MINUTE": "0"
           for c in ("SEARCH", "ASK", "INGEST", "ADMIN")},
    )
    try:
        server = spawn_serve(workdir, env, corpus=files)
        process = server.process
        try:
            _wait_healthy(server)

            async def mint(store: Any) -> tuple[dict[str, str], str]:
                keys = {}
                for tenant, user in ((TENANT_A, "alice"), (TENANT_B, "bob")):
                    keys[tenant] = (await create_key(store, tenant=tenant, user=user,
                                                     scopes=SCOPES)).token
                    await store.ensure_group(tenant, "staff")
                    await store.add_member(tenant, "staff", user)
                spare = await create_key(store, tenant=TENANT_A, user="alice",
                                         scopes=("search",), name="spare")
                return keys, spare.id

            keys, spare = _with_store(db_url, mint)
            fixture = Fixture(server, keys, spare)
            _populate(fixture, files)
            yield fixture
        finally:
            _stop(process)
    finally:
        _drop_database(pg_admin_url, db_name)


def _populate(fx: Fixture, files: Path) -> None:
    """Documents with permissions for both tenants; A's answer record and ingest job."""
    with fx.server.client() as client:
        for tenant in (TENANT_A, TENANT_B):
            docs = [
                {"uri": f"{tenant}/private.md", "title": "Private",
                 "text": f"The {tenant} private budget for the quarter is 40 thousand.",
                 "permissions": {"users": ["alice" if tenant == TENANT_A else "bob"]}},
                {"uri": f"{tenant}/staff.md", "title": "Staff handbook",
                 "text": f"{tenant} staff take leave by asking their manager in writing.",
                 "permissions": {"groups": ["staff"]}},
                {"uri": f"{tenant}/all.md", "title": "Welcome",
                 "text": f"Welcome to {tenant}. The office opens at nine in the morning.",
                 "permissions": {"everyone": True}},
                {"uri": f"{tenant}/closed.md", "title": "Closed",
                 "text": f"{tenant} admins only: the server room code changes monthly.",
                 "permissions": {}},
            ]
            r = client.post("/v1/documents", headers=fx.headers(tenant),
                            json={"index": "default", "documents": docs})
            assert r.status_code == 200, r.text
            pushed = r.json()["documents"]
            assert len(pushed) == 4, pushed
            if tenant == TENANT_A:
                fx.ids["documents"] = [d["id"] for d in pushed]
        r = client.post("/v1/search", headers=fx.headers(TENANT_A),
                        json={"query": "office hours", "index": "default"})
        assert r.status_code == 200 and r.json()["hits"], r.text
        fx.ids["record"] = r.json()["record_id"]
        assert fx.ids["record"], "search answers carry a record id"
        # Records are written in the background: wait until A's own feedback finds it, so
        # B's 404 below is about the tenant, not about timing.
        deadline = time.monotonic() + 30
        while (r := client.post("/v1/feedback", headers=fx.headers(TENANT_A),
                                json={"record_id": fx.ids["record"], "helpful": True})
               ).status_code == 404 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert r.status_code == 201, r.text
        r = client.post("/v1/ingest", headers=fx.headers(TENANT_A),
                        json={"path": str(files), "index": "default", "wait": True})
        assert r.status_code == 200 and r.json()["state"] == "succeeded", r.text
        fx.ids["job"] = r.json()["id"]


def _a_ids_for_b(fx: Fixture) -> list[tuple[str, str, Any]]:
    doc = fx.ids["documents"][0]
    return [
        ("GET", f"/v1/documents/{doc}", None),
        ("PUT", f"/v1/documents/{doc}/permissions", {"everyone": True}),
        ("DELETE", f"/v1/documents/{doc}", None),
        ("GET", f"/v1/ingest/{fx.ids['job']}", None),
        ("POST", "/v1/feedback", {"record_id": fx.ids["record"], "helpful": False}),
        ("DELETE", f"/v1/admin/keys/{fx.spare_key_id}", None),
        ("DELETE", "/v1/admin/users/alice", None),
        ("DELETE", "/v1/admin/groups/staff/members/alice", None),
    ]


def test_tenant_a_ids_are_404_for_tenant_b(api: Fixture) -> None:
    with api.server.client() as client:
        for method, path, body in _a_ids_for_b(api):
            r = client.request(method, path, headers=api.headers(TENANT_B), json=body)
            assert r.status_code == 404, (method, path, r.status_code, r.text)
            assert r.json()["error"]["code"].startswith("not_found"), r.text
            assert "tangerine" not in r.text and "acme" not in r.text.lower(), r.text
        # Nothing B tried took effect: A still reads its document with its permissions, its
        # spare key still works... and every id was real for A all along.
        for doc in api.ids["documents"]:
            r = client.get(f"/v1/documents/{doc}", headers=api.headers(TENANT_A))
            assert r.status_code == 200, r.text
        r = client.get(f"/v1/ingest/{api.ids['job']}", headers=api.headers(TENANT_A))
        assert r.status_code == 200, r.text
        live = {k["id"]: k for k in client.get("/v1/admin/keys",
                                                headers=api.headers(TENANT_A)).json()}
        assert live[api.spare_key_id]["revoked_at"] is None
        users = {u["name"]: u for u in client.get("/v1/admin/users",
                                                   headers=api.headers(TENANT_A)).json()}
        assert users["alice"]["groups"] == ["staff"]
        # B's own staff group is a different object with the same name.
        r = client.get("/v1/admin/groups", headers=api.headers(TENANT_B))
        assert [g["members"] for g in r.json() if g["name"] == "staff"] == [["bob"]]
        r = client.post("/v1/feedback", headers=api.headers(TENANT_A),
                        json={"record_id": api.ids["record"], "helpful": True})
        assert r.status_code == 201, r.text


# Tenant admins may revoke their own keys and delete their own users (by design); the fuzzer
# must not remove the principals it runs as. B's attempts on A's keys/users are tested above.
EXCLUDED = {("DELETE", "/v1/admin/keys/{key_id}"), ("DELETE", "/v1/admin/users/{name}"),
            ("DELETE", "/v1/admin/groups/{name}/members/{user}")}


def _fuzz_operation(operation: Any, api: Fixture, tenant: str, mode: GenerationMode,
                    examples: int) -> None:
    key = {"Authorization": f"Bearer {api.keys[tenant]}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
    def run(case: Any) -> None:
        case.call_and_validate(headers=key, checks=CHECKS)
        # Without a key: 401 for every well-formed request. (A body that is not JSON is
        # rejected with 422/400 by FastAPI's body parsing, which runs before dependencies.)
        if mode is GenerationMode.POSITIVE and (case.method.upper(), operation.path) not in PUBLIC:
            # The generator may add an Authorization header of its own (the schema declares
            # a bearer scheme): drop it, so this request carries no key at all.
            generated = case.headers
            case.headers = {k: v for k, v in (generated or {}).items()
                            if k.lower() != "authorization"}
            try:
                anonymous = case.call()
            finally:
                case.headers = generated
            assert anonymous.status_code == 401, (case.method, case.formatted_path,
                                                  anonymous.status_code, anonymous.text[:300])
            assert json.loads(anonymous.text)["error"]["code"] == "auth.missing_key"

    run()


@pytest.mark.parametrize(("tenant", "examples"), [
    (TENANT_A, QUICK_EXAMPLES), (TENANT_B, QUICK_EXAMPLES),
    pytest.param(TENANT_A, THOROUGH_EXAMPLES, marks=pytest.mark.slow, id="acme-thorough"),
    pytest.param(TENANT_B, THOROUGH_EXAMPLES, marks=pytest.mark.slow, id="globex-thorough"),
])
def test_api_conforms_to_its_schema(api: Fixture, tenant: str, examples: int) -> None:
    schema = schemathesis.openapi.from_url(f"{api.server.base_url}/openapi.json")
    failures: list[str] = []
    fuzzed = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        fuzzed += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz_operation(operation, api, tenant, mode, examples)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong (no inputs)
            except (Exception, BaseExceptionGroup) as exc:  # collect all, then fail once
                failures.append(f"{operation.method.upper()} {operation.path} [{mode}]: "
                                f"{str(exc)[:1500]}")
    assert fuzzed >= 30
    assert not failures, "\n\n".join(failures)


def test_every_operation_is_covered(api: Fixture) -> None:
    """The fuzzed schema is the served one, and it lists the operations that carry ids."""
    spec = httpx.get(f"{api.server.base_url}/openapi.json").json()
    operations = {(m.upper(), p) for p, ms in spec["paths"].items() for m in ms}
    assert ("GET", "/v1/documents/{document_id}") in operations
    assert ("GET", "/v1/ingest/{job_id}") in operations
    assert ("DELETE", "/v1/admin/keys/{key_id}") in operations
    assert len(operations) >= 30
