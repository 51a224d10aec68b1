"""Keys, scopes, tenants and document permissions through the real API (dev mode off)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

PUBLIC = {("GET", "/healthz"), ("GET", "/"), ("HEAD", "/")}


def _operations(secured: Any) -> list[tuple[str, str]]:
    # server.api_docs = "key" (the default): the schema itself needs a key
    token = secured.key("default", "reader", scopes=("search",))
    assert secured.client.get("/openapi.json").status_code == 401
    spec = secured.client.get("/openapi.json", headers=secured.as_(token)).json()
    ops = []
    for path, methods in spec["paths"].items():
        for method in methods:
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            ops.append((method.upper(), concrete))
    ops.append(("GET", "/metrics"))
    return ops


def test_every_operation_but_health_needs_a_key(secured: Any) -> None:
    checked = 0
    for method, path in _operations(secured):
        if (method, path) in PUBLIC:
            continue
        response = secured.client.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.status_code, response.text)
        broken = secured.client.request(method, path, content=b"{not json",
                                        headers={"content-type": "application/json"})
        assert broken.status_code == 401, (method, path, broken.text)  # before any parsing
        body = response.json()["error"]
        assert body["code"] == "auth.missing_key"
        assert response.headers["www-authenticate"].startswith("Bearer")
        checked += 1
    assert checked >= 25
    assert secured.client.get("/healthz").status_code == 200


def test_bad_revoked_and_expired_keys_are_refused(secured: Any) -> None:
    token = secured.key("acme", "ann")
    assert secured.client.post("/v1/search", headers=secured.as_(token),
                               json={"query": "x"}).status_code == 200
    for bad, code in [(token[:-2] + "zz", "auth.invalid_key"), ("gw_nonsense", "auth.invalid_key")]:
        r = secured.client.post("/v1/search", headers=secured.as_(bad), json={"query": "x"})
        assert (r.status_code, r.json()["error"]["code"]) == (401, code)
        assert token[20:] not in r.text  # the secret is never echoed
    key_id = token.split("_")[1]
    assert secured.call(secured.gw.store.revoke_key, key_id)
    r = secured.client.post("/v1/search", headers=secured.as_(token), json={"query": "x"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "auth.revoked_key")

    from groundwire.security.keys import hash_secret

    secured.call(secured.gw.store.insert_key, key_id="0123456789ab", tenant="acme", user="ann",
                 name="old", secret_hash=hash_secret("s" * 43), scopes=["search"],
                 expires_at=datetime.now(UTC) - timedelta(seconds=1))
    r = secured.client.post("/v1/search", headers=secured.as_("gw_0123456789ab_" + "s" * 43),
                            json={"query": "x"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "auth.expired_key")


def test_scopes_are_enforced(secured: Any) -> None:
    searcher = secured.key("acme", "sam", scopes=("search",))
    h = secured.as_(searcher)
    assert secured.client.post("/v1/search", headers=h, json={"query": "x"}).status_code == 200
    for method, path, body in [
        ("POST", "/v1/ask", {"question": "x"}),
        ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]}),
        ("POST", "/v1/documents", {"documents": [{"uri": "a", "text": "b"}]}),
        ("GET", "/v1/admin/keys", None),
        ("GET", "/v1/records", None),
        ("GET", "/metrics", None),
    ]:
        r = secured.client.request(method, path, headers=h, json=body)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"]["code"] == "auth.forbidden"
    # A tenant admin is not the operator: installation-wide views stay closed.
    admin = secured.key("acme", "root", scopes=("admin",))
    assert secured.client.get("/v1/admin/keys", headers=secured.as_(admin)).status_code == 200
    assert secured.client.get("/v1/monitor", headers=secured.as_(admin)).status_code == 403
    operator = secured.key("default", "op", scopes=("admin",))
    assert secured.client.get("/metrics", headers=secured.as_(operator)).status_code == 200


def test_one_percent_readable_still_gets_k_hits(secured: Any) -> None:
    writer = secured.key("acme", "writer", scopes=("ingest",))
    docs = [{"uri": f"doc-{i}", "title": f"Report {i}",
             "text": f"Quarterly falcon budget report number {i}. The falcon project spent "
                     f"{i * 10} units.",
             "permissions": {"users": ["reader"] if i % 50 == 0 else ["someone-else"]}}
            for i in range(600)]
    for start in range(0, len(docs), 100):
        secured.push(writer, docs[start:start + 100], index="big")
    reader = secured.key("acme", "reader")
    hits = secured.search(reader, "falcon budget report", index="big", top_k=10)
    assert len(hits) == 10  # 12 of 600 readable (2%): still k results
    assert {h["uri"] for h in hits} <= {f"doc-{i}" for i in range(0, 600, 50)}
    listing = secured.client.get("/v1/documents?index=big&limit=1000",
                                 headers=secured.as_(reader)).json()
    assert listing["counts"]["indexed"] == 12 and len(listing["documents"]) == 12


def test_tenants_and_groups_are_isolated(secured: Any) -> None:
    a_writer = secured.key("acme", "aw", scopes=("ingest", "admin"))
    b_writer = secured.key("bravo", "bw", scopes=("ingest",))
    pushed = secured.push(a_writer, [
        {"uri": "plan", "text": "The acme canary CANARY-ACME-7 sails at dawn from harbour.",
         "permissions": {"groups": ["crew"]}},
        {"uri": "memo", "text": "Open memo for everyone at acme about the harbour.",
         "permissions": {"everyone": True}},
        {"uri": "secret", "text": "Nobody but admins read about the harbour vault."},
    ])
    secured.push(b_writer, [{"uri": "plan", "text": "Bravo harbour CANARY-BRAVO-3 plan.",
                             "permissions": {"everyone": True}}])
    ids = {d["uri"]: d["id"] for d in pushed["documents"]}
    crew = secured.key("acme", "cat", groups=("crew",))
    outsider = secured.key("acme", "otto")
    bravo = secured.key("bravo", "bob")

    def uris(token: str) -> set[str]:
        return {h["uri"] for h in secured.search(token, "harbour")}

    assert uris(crew) == {"plan", "memo"}
    assert uris(outsider) == {"memo"}
    assert uris(bravo) == {"plan"}
    assert "CANARY-ACME" not in json.dumps(secured.search(bravo, "acme canary sails dawn"))
    # Another tenant's or an unreadable document id is 404, like a missing one.
    for token in (bravo, outsider):
        r = secured.client.get(f"/v1/documents/{ids['plan']}", headers=secured.as_(token))
        assert r.status_code == 404 and "CANARY" not in r.text
    assert secured.client.get(f"/v1/documents/{ids['plan']}",
                              headers=secured.as_(crew)).status_code == 200
    # Removing the user from the group takes effect at the next request.
    secured.call(secured.gw.store.remove_member, "acme", "crew", "cat")
    assert uris(crew) == {"memo"}
    # Admins read everything of their tenant, including documents naming nobody.
    assert uris(a_writer) == {"plan", "memo", "secret"}
    # Changing permissions through the admin API applies at once.
    r = secured.client.put(f"/v1/documents/{ids['secret']}/permissions",
                           headers=secured.as_(a_writer), json={"users": ["otto"]})
    assert r.status_code == 200, r.text
    assert r.json()["permissions"] == {"users": ["otto"], "groups": [], "everyone": False}
    assert uris(outsider) == {"memo", "secret"}


def test_folder_sidecars_front_matter_and_record_fields(secured: Any, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    (root / "team").mkdir(parents=True)
    (root / "team" / ".permissions.json").write_text(json.dumps({"groups": ["team"]}))
    (root / "team" / "roadmap.md").write_text("# Roadmap\n\nThe zephyr roadmap for the team.")
    (root / "team" / "salaries.md").write_text("# Pay\n\nZephyr salary bands.")
    (root / "team" / "salaries.md.permissions.json").write_text(json.dumps(["user:hr"]))
    (root / "open.md").write_text("---\npermissions: ['*']\n---\n# Open\n\nZephyr news.")
    # a folder sidecar open to everyone cannot widen a file's own front matter (intersection)
    (root / "pub").mkdir()
    (root / "pub" / ".permissions.json").write_text(json.dumps(["*"]))
    (root / "pub" / "pay.md").write_text("---\npermissions: [hr]\n---\n# Pay\n\nZephyr pay.")
    # front matter cannot widen its folder's sidecar (they intersect): team members only
    (root / "team" / "wide.md").write_text(
        "---\npermissions: ['*']\n---\n# Wide\n\nZephyr plans for all?")
    (root / "bad.md").write_text("# Bad\n\nZephyr text.")
    (root / "bad.md.permissions.json").write_text("{not json")
    (root / "items.jsonl").write_text(
        json.dumps({"id": "1", "text": "Zephyr record for ops", "permissions": ["group:ops"]})
        + "\n" + json.dumps({"id": "2", "text": "Zephyr record, default readers"}) + "\n")
    report = secured.call(secured.gw.ingest_path, root, index="folder", tenant="acme")
    assert report.errors == {"permissions.invalid": 1}

    def uris(token: str) -> set[str]:
        return {h["uri"] for h in secured.search(token, "zephyr", index="folder")}

    assert uris(secured.key("acme", "tina", groups=("team",))) == {
        "team/roadmap.md", "team/wide.md", "open.md"}
    assert uris(secured.key("acme", "hr")) == {"team/salaries.md", "open.md", "pub/pay.md"}
    assert uris(secured.key("acme", "olga", groups=("ops",))) == {"items.jsonl#1", "open.md"}
    assert uris(secured.key("acme", "x")) == {"open.md"}
    assert "permissions" not in json.dumps(secured.search(secured.key("acme", "x"), "zephyr",
                                                          index="folder"))


def test_ingest_reports_do_not_reveal_other_tenants_text(secured: Any) -> None:
    text = "The vault combination of the western warehouse is recorded in ledger nine."
    a = secured.key("acme", "aw", scopes=("ingest",))
    b = secured.key("bravo", "bw", scopes=("ingest",))
    first = secured.push(a, [{"uri": "one", "text": text}])["report"]
    assert (first["chunks_embedded"], first["chunks_reused"]) == (1, 0)
    again = secured.push(a, [{"uri": "two", "text": text}])["report"]
    assert (again["chunks_embedded"], again["chunks_reused"]) == (0, 1)  # shared in-tenant
    other = secured.push(b, [{"uri": "one", "text": text}])["report"]
    assert (other["chunks_embedded"], other["chunks_reused"]) == (1, 0)  # never across
