"""Tenant scoping of named resources across two tenants (issue 18, item 4): index names
(search, ask, chat, listing, tuning), ingest jobs (owner check), job retry (ingest_roots).
Another tenant's resource answers exactly like one that does not exist."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def _index_reads(client: Any, headers: dict[str, str], index: str) -> dict[str, Any]:
    """Every route that names an index, read as ``headers``: route -> response."""
    return {
        "search": client.post("/v1/search", headers=headers,
                              json={"query": "ledger", "index": index}),
        "ask": client.post("/v1/ask", headers=headers,
                           json={"question": "What is in the ledger?", "index": index}),
        "chat": client.post("/v1/chat/completions", headers=headers, json={
            "model": f"groundwire/{index}",
            "messages": [{"role": "user", "content": "What is in the ledger?"}]}),
        "list": client.get("/v1/documents", headers=headers, params={"index": index}),
        "tuning": client.get(f"/v1/indexes/{index}/tuning", headers=headers),
        "retune": client.post(f"/v1/indexes/{index}/tuning/auto", headers=headers),
    }


def _shape(response: Any, name: str) -> tuple[int, str]:
    """Status and body with the name blanked (and the request id dropped): what a caller
    can compare."""
    body = response.json()
    if isinstance(body.get("error"), dict):
        body["error"].pop("request_id", None)
    return response.status_code, json.dumps(body, sort_keys=True).replace(name, "<name>")


def test_another_tenants_index_reads_like_an_unknown_one(secured: Any) -> None:
    run = uuid.uuid4().hex[:8]
    private, unknown = f"acme-private-{run}", f"never-made-{run}"
    acme = secured.key("acme", "root", scopes=("admin",))
    secured.push(acme, [{"uri": "l", "text": "The ledger of acme lists nine vaults."}],
                 index=private)
    client = secured.client
    owner = _index_reads(client, secured.as_(acme), private)
    assert {k: r.status_code for k, r in owner.items() if k != "retune"} == dict.fromkeys(
        ["search", "ask", "chat", "list", "tuning"], 200)
    for user, scopes in (("root", ("admin",)), ("reader", ("search", "ask"))):
        bravo = secured.as_(secured.key("bravo", user, scopes=scopes))
        theirs = _index_reads(client, bravo, private)
        absent = _index_reads(client, bravo, unknown)
        for route in theirs:
            assert _shape(theirs[route], private) == _shape(absent[route], unknown), (
                user, route, theirs[route].text)
            if route != "retune" or user == "root":  # a reader's retune is 403 (scope)
                assert theirs[route].status_code == 404, (user, route, theirs[route].text)
                assert theirs[route].json()["error"]["code"] == "not_found"
        assert f"groundwire/{private}" not in client.get("/v1/models", headers=bravo).text


def test_tuning_of_a_shared_index_is_the_operators(secured: Any) -> None:
    shared = f"shared-{uuid.uuid4().hex[:8]}"
    acme = secured.key("acme", "root", scopes=("admin",))
    bravo = secured.key("bravo", "root", scopes=("admin",))
    secured.push(acme, [{"uri": "a", "text": "Acme keeps its ledger in the north vault."}],
                 index=shared)
    secured.push(bravo, [{"uri": "b", "text": "Bravo keeps its ledger in the south vault."}],
                 index=shared)
    for token in (acme, bravo):
        retune = secured.client.post(f"/v1/indexes/{shared}/tuning/auto",
                                     headers=secured.as_(token))
        assert retune.status_code == 403, retune.text
        assert retune.json()["error"]["code"] == "tuning.shared_index"
        got = secured.client.get(f"/v1/indexes/{shared}/tuning", headers=secured.as_(token))
        assert got.status_code == 200 and got.json()["auto"] is None  # evidence of both


def _job(secured: Any, *, tenant: str, owner: str, path: str, state: str = "failed",
         kind: str = "ingest") -> str:
    job_id = uuid.uuid4().hex
    params = {"path": path, "index": "default", "retry_failed": False, "tenant": tenant}
    secured.call(secured.gw.job_service()._rows,
                 "INSERT INTO jobs (id, kind, tenant, owner, params, state) "
                 "VALUES (%s, %s, %s, %s, %s, %s)",
                 [job_id, kind, tenant, owner, json.dumps(params), state])
    return job_id


def test_ingest_jobs_are_seen_by_their_owner_and_tenant_admins_only(secured: Any) -> None:
    alice = secured.as_(secured.key("acme", "alice", scopes=("ingest",)))
    bob = secured.as_(secured.key("acme", "bob", scopes=("ingest",)))
    admin = secured.as_(secured.key("acme", "root", scopes=("admin",)))
    other = secured.as_(secured.key("bravo", "root", scopes=("admin",)))
    job_id = _job(secured, tenant="acme", owner="acme/alice", path="/nowhere")
    missing = secured.client.get(f"/v1/ingest/{uuid.uuid4().hex}", headers=bob)
    for headers, status in ((alice, 200), (admin, 200), (bob, 404), (other, 404)):
        got = secured.client.get(f"/v1/ingest/{job_id}", headers=headers)
        assert got.status_code == status, got.text
        if status == 404:
            assert _shape(got, job_id)[1] == _shape(missing, missing.url.path.split("/")[-1])[1]


def test_job_retry_checks_ingest_roots_again(make_secured: Any, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    secured = make_secured(ingest_roots=[str(allowed)])
    alice = secured.as_(secured.key("acme", "alice", scopes=("ingest",)))
    outside = _job(secured, tenant="acme", owner="acme/alice", path=str(tmp_path / "etc"))
    refused = secured.client.post(f"/v1/jobs/{outside}/retry", headers=alice)
    assert refused.status_code == 403, refused.text
    assert secured.client.get(f"/v1/jobs/{outside}", headers=alice).json()["state"] == "failed"
    inside = _job(secured, tenant="acme", owner="acme/alice", path=str(allowed / "docs"))
    assert secured.client.post(f"/v1/jobs/{inside}/retry", headers=alice).status_code == 200
    # an assessment reads any path and index: only the operator retries one
    assessment = _job(secured, tenant="acme", owner="acme/alice", path=str(allowed),
                      kind="assessment")
    admin = secured.as_(secured.key("acme", "root", scopes=("admin",)))
    assert secured.client.post(f"/v1/jobs/{assessment}/retry", headers=admin).status_code == 403


def test_readiness_names_only_the_callers_indexes(secured: Any) -> None:
    run = uuid.uuid4().hex[:8]
    acme = secured.key("acme", "root", scopes=("admin",))
    secured.push(acme, [{"uri": "r", "text": "Acme readiness ledger."}], index=f"acme-{run}")
    operator = secured.key("default", "op", scopes=("admin",))
    everything = secured.client.get("/readyz", headers=secured.as_(operator)).json()
    assert f"acme-{run}" in everything["checks"]["indexes"]
    bravo = secured.key("bravo", "reader", scopes=("search",))
    theirs = secured.client.get("/readyz", headers=secured.as_(bravo))
    assert theirs.status_code in (200, 503)
    assert f"acme-{run}" not in theirs.text
    assert set(theirs.json()["checks"]["indexes"]) <= {"default"}
    mine = secured.client.get("/readyz", headers=secured.as_(acme)).json()
    assert f"acme-{run}" in mine["checks"]["indexes"]
