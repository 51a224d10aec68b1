"""A keyed ``groundwire serve`` for the web-app tests (not a conftest; imported by them).

Unlike ``live_server`` (dev mode), this server requires API keys, so sign-in, scopes and CSRF
are real. ``CORPUS`` is ingested into ``default`` and into ``handbook`` (a folder source, so
``handbook`` can be rebuilt as a new version), and the success contract is a two-question
eval set over ``handbook`` (hit@1 >= 0.5, no answers: fast)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from live_server import (
    INGEST_TIMEOUT_S,
    LiveServer,
    _create_database,
    _drop_database,
    _stop,
    _wait_healthy,
    mint_key,
    spawn_serve,
    write_corpus,
)


@dataclass
class KeyedServer:
    server: LiveServer
    admin_key: str  # an admin of the default (operator) tenant
    reader_key: str  # default/bob, scope ask only

    @property
    def base_url(self) -> str:
        return self.server.base_url


def _eval_set(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "queries.jsonl").write_text(
        '{"id": "q1", "text": "How often are encryption keys rotated?"}\n'
        '{"id": "q2", "text": "What does the Team plan cost per user?"}\n')
    (root / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n"
                                    "q1\tpolicies/security.md\t1\nq2\tbilling/pricing.md\t1\n")
    return root


@contextmanager
def keyed_server(pg_admin_url: str, workdir: Path) -> Iterator[KeyedServer]:
    corpus = write_corpus(workdir / "corpus")
    evals = _eval_set(workdir / "evals")
    db_name, db_url = _create_database(pg_admin_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    env.update(
        GROUNDWIRE_DATABASE_URL=db_url, GROUNDWIRE_DATA_DIR=str(workdir / "data"),
        GROUNDWIRE_SECURITY__DEV_MODE="false", PYTHONUNBUFFERED="1",
        GROUNDWIRE_CONTRACT__EVAL_SETS=json.dumps([str(evals)]),
        GROUNDWIRE_CONTRACT__INDEX="handbook", GROUNDWIRE_CONTRACT__ANSWER_LIMIT="0",
        GROUNDWIRE_CONTRACT__HISTORY="false",
        GROUNDWIRE_CONTRACT__TARGETS=json.dumps({"hit@1": {"min": 0.5}}),
    )
    try:
        server = spawn_serve(workdir, env, corpus=corpus, db_url=db_url)
        try:
            _wait_healthy(server)
            key = mint_key(server, "default", "ops", ("admin",))
            reader = mint_key(server, "default", "bob", ("ask",))
            with server.client(timeout=httpx.Timeout(INGEST_TIMEOUT_S, connect=10.0),
                               headers={"Authorization": f"Bearer {key}"}) as client:
                for index in ("default", "handbook"):
                    response = client.post("/v1/ingest", json={"path": str(corpus),
                                                               "index": index, "wait": True})
                    if response.status_code != 200 or \
                            response.json().get("state") != "succeeded":
                        pytest.fail(f"ingest into {index} failed: {response.status_code} "
                                    f"{response.text}\nlog:\n{server.log_tail()}")
            yield KeyedServer(server, key, reader)
        finally:
            _stop(server.process)
    finally:
        _drop_database(pg_admin_url, db_name)
