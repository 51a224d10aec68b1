"""The documented external deployment (docs/operations.md "External PostgreSQL"): a server
reached over TCP with password authentication, as a non-superuser role that owns its
database, pgvector created once by the superuser. The first process applies the migrations
as that role; ingest and search work; a wrong password is refused.

The other "external" tests use a second embedded server over a Unix socket as the superuser,
which would pass even if a migration needed superuser rights or the URL's password were
ignored."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from live_server import write_corpus
from support.external_pg import TcpPostgres

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tcp_pg() -> Iterator[TcpPostgres]:
    root = Path(tempfile.gettempdir()) / f"gw-tcp-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    server = TcpPostgres(root)
    try:
        yield server.start()
    finally:
        server.stop()


def test_the_role_is_no_superuser_and_needs_its_password(tcp_pg: TcpPostgres) -> None:
    with psycopg.connect(tcp_pg.url(), autocommit=True) as conn:
        row = conn.execute("SELECT rolsuper, inet_server_addr() IS NOT NULL FROM pg_roles "
                           "WHERE rolname = current_user").fetchone()
        assert row == (False, True)  # a plain role, over TCP (not the Unix socket)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(tcp_pg.url(password="wrong"), connect_timeout=10).close()


def test_migrate_ingest_and_search_as_the_role_over_tcp(
    tcp_pg: TcpPostgres, make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path,
) -> None:
    from groundwire.api.app import create_app

    settings = make_settings(database_url=tcp_pg.url(), security={"dev_mode": True})
    corpus = write_corpus(tmp_path / "corpus")
    with TestClient(create_app(settings, embedder=real_embedder),
                    base_url="http://127.0.0.1") as client:
        ingested = client.post("/v1/ingest", json={"path": str(corpus), "wait": True})
        assert ingested.status_code == 200, ingested.text
        found = client.post("/v1/search", json={"query": "How do I install Quillmate?"})
        assert found.status_code == 200, found.text
        assert found.json()["hits"][0]["uri"] == "guides/install.md"
    with psycopg.connect(tcp_pg.url(), autocommit=True) as conn:
        owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'chunks'"
                             ).fetchone()
        assert owner == (TcpPostgres.ROLE,)  # the schema was created by the role itself
