"""Named sources through a real ``groundwire serve`` (its in-process job worker running, fake
embedder) and the real CLI, on the embedded PostgreSQL, with a real git repository:

* the API: add (admin), list/get (credentials masked), sync (ingest counts), an outage
  (502 ``source.unreachable``, recorded, nothing deleted), remove; coded 422s for bad input;
  403/404 across scopes and tenants;
* scheduling: a source with ``schedule: every 1s`` is synced by the worker by itself;
* the CLI: ``source add``, ``source list --json``, ``sync NAME --json``, ``source remove``.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import (
    LiveServer,
    _create_database,
    _drop_database,
    _stop,
    _wait_healthy,
    mint_key,
    spawn_serve,
)
from processes import groundwire_exe
from sources_harness import GitHarness
from workers import worker_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("sources-api")
    db_name, db_url = _create_database(pg_admin_url)
    env = worker_env(db_url, workdir, {"DOCS_REPO_URL": "https://me:tok-abc123@127.0.0.1:9/r.git"})
    try:
        live = spawn_serve(workdir, env, db_url=db_url)
        live.db_url = db_url
        try:
            _wait_healthy(live)
            yield live
        finally:
            _stop(live.process)
    finally:
        _drop_database(pg_admin_url, db_name)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["code"])


def test_sources_api(server: LiveServer, tmp_path: Path) -> None:
    repo = GitHarness(tmp_path)
    operator = auth(mint_key(server, "default", "root", ("admin",)))
    reader = auth(mint_key(server, "default", "ingester", ("ingest",)))
    acme = auth(mint_key(server, "acme", "root", ("admin",)))
    body = {"name": "handbook", "type": "git", "index": "handbook",
            "options": {**repo.options(), "link": "https://git.example.com/h/{commit}/{path}"}}
    with server.client() as client:
        assert error_code(client.post("/v1/sources", json=body, headers=reader), 403) \
            == "auth.forbidden"
        created = client.post("/v1/sources", json=body, headers=operator)
        assert created.status_code == 201, created.text
        assert created.json()["last_sync_at"] is None
        assert error_code(client.post("/v1/sources", json=body, headers=operator), 422) \
            == "source.exists"
        bad = [({**body, "name": "x", "type": "ftp"}, "source.unknown_type"),
               ({**body, "name": "Bad Name!"}, "source.invalid_name"),
               ({**body, "name": "x", "schedule": "now and then"}, "source.invalid_schedule"),
               ({**body, "name": "x", "type": "sql", "options": {
                   "url": "postgresql://u:hunter2@db/x", "query": "SELECT 1"}},
                "source.secret_in_clear"),
               ({**body, "name": "x", "options": {"repo": "/x", "colour": 1}},
                "source.invalid_options")]
        for payload, code in bad:
            assert error_code(client.post("/v1/sources", json=payload, headers=operator),
                              422) == code, payload
        secret = client.post("/v1/sources", headers=operator, json={
            "name": "remote", "type": "git", "options": {
                "repo": "env:DOCS_REPO_URL", "timeout_s": 20}})
        assert secret.status_code == 201, secret.text

        synced = client.post("/v1/sources/handbook/sync", headers=reader)
        assert synced.status_code == 200, synced.text
        data = synced.json()
        assert data["documents"]["indexed"] == 3 and data["chunks_embedded"] > 0
        assert client.post("/v1/sources/handbook/sync", headers=reader).json()[
            "chunks_embedded"] == 0

        listed = client.get("/v1/sources", headers=reader).json()["sources"]
        assert [s["name"] for s in listed] == ["handbook", "remote"]
        assert "tok-abc123" not in json.dumps(listed)
        view = client.get("/v1/sources/handbook", headers=reader).json()
        assert view["documents"] == {"indexed": 3} and view["last_status"] == "ok"
        hits = client.post("/v1/search", headers=operator, json={
            "query": "harbour lantern", "index": "handbook"}).json()
        assert any(h["uri"] == "docs/alpha.md" for h in hits["hits"]), hits

        unreachable = client.post("/v1/sources/remote/sync", headers=reader)
        assert error_code(unreachable, 502) == "source.unreachable"
        assert "tok-abc123" not in unreachable.text
        with repo.outage():
            assert error_code(client.post("/v1/sources/handbook/sync", headers=reader),
                              502) == "source.unreachable"
        view = client.get("/v1/sources/handbook", headers=reader).json()
        assert view["last_status"] == "unreachable"
        assert view["documents"] == {"indexed": 3}  # nothing deleted

        assert error_code(client.get("/v1/sources/handbook", headers=acme), 404) == "not_found"
        assert error_code(client.post("/v1/sources", headers=acme, json={
            "name": "etc", "type": "folder", "options": {"path": "/etc"}}), 403) \
            == "auth.forbidden"
        assert error_code(client.post("/v1/sources", headers=acme, json={
            "name": "env", "type": "web", "options": {"url": "env:HOME"}}), 403) \
            == "auth.forbidden"
        # The server's own reach (sources/reach.py): the embedded database's socket, the
        # metadata address, a bucket through the server's credentials.
        for reach in ({"type": "sql", "options": {
                          "url": "postgresql+psycopg://postgres@/groundwire?host=/tmp/x",
                          "query": "SELECT key_hash FROM api_keys"}},
                      {"type": "web", "options": {"url": "http://169.254.169.254/latest/"}},
                      {"type": "s3", "options": {"bucket": "private-docs"}}):
            refused = client.post("/v1/sources", headers=acme, json={"name": "reach", **reach})
            assert error_code(refused, 403) == "auth.forbidden", reach
        assert client.get("/v1/sources", headers=acme).json()["sources"] == []

        removed = client.delete("/v1/sources/handbook", headers=operator)
        assert removed.status_code == 200 and removed.json()["documents_deleted"] == 3
        assert error_code(client.get("/v1/sources/handbook", headers=reader), 404) == "not_found"


def test_scheduled_source_syncs_by_itself(server: LiveServer, tmp_path: Path) -> None:
    repo = GitHarness(tmp_path)
    operator = auth(mint_key(server, "default", "root2", ("admin",)))
    with server.client() as client:
        created = client.post("/v1/sources", headers=operator, json={
            "name": "scheduled", "type": "git", "index": "sched", "options": repo.options(),
            "schedule": "every 1s"})
        assert created.status_code == 201, created.text
        assert created.json()["next_run_at"] is not None
        deadline = time.monotonic() + 60
        view: dict[str, Any] = {}
        while time.monotonic() < deadline:
            view = client.get("/v1/sources/scheduled", headers=operator).json()
            if view["last_status"] == "ok":
                break
            time.sleep(0.5)
        assert view["last_status"] == "ok", (view, server.log_tail())
        assert view["documents"] == {"indexed": 3}
        repo.delete("gamma")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            view = client.get("/v1/sources/scheduled", headers=operator).json()
            if view["documents"] == {"indexed": 2}:
                break
            time.sleep(0.5)
        assert view["documents"] == {"indexed": 2}, view
        jobs = client.get("/v1/jobs", headers=operator).json()["jobs"]
        assert any(j["kind"] == "source_sync" and j["state"] == "succeeded" for j in jobs)
        client.delete("/v1/sources/scheduled", headers=operator)


@pytest.mark.slow  # five CLI processes, each importing the application: ~35 s
def test_cli_source_commands(server: LiveServer, tmp_path: Path) -> None:
    repo = GitHarness(tmp_path)
    env = worker_env(server.db_url, tmp_path)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([groundwire_exe(), *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    options = [f"--option={k}={json.dumps(v) if not isinstance(v, str) else v}"
               for k, v in repo.options().items()]
    added = cli("source", "add", "cli-src", "git", *options, "--index", "cli", "--json")
    assert added.returncode == 0, added.stderr
    synced = cli("sync", "cli-src", "--json")
    assert synced.returncode == 0, synced.stderr
    report = json.loads(synced.stdout)
    assert report["documents"] == {"indexed": 3, "unchanged": 0, "failed": 0, "deleted": 0}
    assert report["chunks_embedded"] + report["chunks_reused"] > 0 and report["status"] == "ok"
    listed = json.loads(cli("source", "list", "--json").stdout)["sources"]
    assert any(s["name"] == "cli-src" and s["documents"] == {"indexed": 3} for s in listed)
    with repo.outage():
        failed = cli("sync", "cli-src", "--json")
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["error"]["code"] == "source.unreachable"
    removed = cli("source", "remove", "cli-src", "--json")
    assert removed.returncode == 0 and json.loads(removed.stdout)["documents_deleted"] == 3
