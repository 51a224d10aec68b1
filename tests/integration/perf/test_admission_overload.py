"""Admission control against a real server on loopback (uvicorn in this process, real
PostgreSQL, the real embedding model).

The search handler is slowed by a *gate* around the real embedder: once armed, a query encode
blocks until the test opens it, so "one request is in flight" is a fact the test observes, not
a timing guess. No assertion depends on wall-clock durations; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import free_port, write_corpus

pytestmark = pytest.mark.integration

WAIT_S = 60.0  # upper bound of every wait below (never reached when the code is right)


class GatedEmbedder:
    """The real embedder; while ``armed``, each query encode waits for ``release``."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.model_id = inner.model_id
        self.max_tokens = inner.max_tokens
        self.armed = False
        self.entered = threading.Event()
        self.release = threading.Event()

    @property
    def dimension(self) -> int:
        return int(self._inner.dimension)

    def encode_passages(self, texts: Sequence[str]) -> Any:
        return self._inner.encode_passages(texts)

    def encode_queries(self, texts: Sequence[str]) -> Any:
        return self._inner.encode_queries(texts)

    def encode_query(self, text: str) -> Any:
        if self.armed:
            self.entered.set()
            self.release.wait(WAIT_S)
        return self._inner.encode_query(text)

    def count_tokens(self, text: str) -> int:
        return int(self._inner.count_tokens(text))


@pytest.fixture
def gated_server(make_settings: Any, real_embedder: Any, tmp_path: Path
                 ) -> Iterator[tuple[str, GatedEmbedder]]:
    import uvicorn

    from groundwire.api.app import create_app

    settings = make_settings(admission={"max_in_flight": 1, "queue_size": 0,
                                        "retry_after_s": 2})
    embedder = GatedEmbedder(real_embedder)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, embedder=embedder),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=WAIT_S) as client:
            for _ in range(int(WAIT_S * 10)):
                if server.started:
                    break
                threading.Event().wait(0.1)
            assert server.started, "uvicorn did not start"
            corpus = write_corpus(tmp_path / "corpus")
            ingested = client.post("/v1/ingest", json={"path": str(corpus), "wait": True})
            assert ingested.status_code == 200, ingested.text
        yield base, embedder
    finally:
        embedder.release.set()
        server.should_exit = True
        thread.join(WAIT_S)


def _shed_total(metrics_text: str, route: str) -> float:
    match = re.search(
        r'^groundwire_requests_shed_total\{route="' + re.escape(route) + r'"\} (\S+)$',
        metrics_text, re.M)
    assert match, "groundwire_requests_shed_total{route} missing from /metrics"
    return float(match.group(1))


async def test_overload_sheds_with_retry_after_and_recovers(
        gated_server: tuple[str, GatedEmbedder]) -> None:
    base, embedder = gated_server
    async with httpx.AsyncClient(base_url=base, timeout=WAIT_S) as client:
        before = _shed_total((await client.get("/metrics")).text, "/v1/search")
        embedder.armed = True
        held = asyncio.create_task(client.post(
            "/v1/search", json={"query": "how do I install quillmate"}))
        entered = await asyncio.to_thread(embedder.entered.wait, WAIT_S)
        assert entered, "the first search never reached the embedder"

        # The one slot is taken and nothing may queue: every further query request is shed.
        shed = await asyncio.gather(*(
            client.post("/v1/search", json={"query": f"refund policy {i}"}) for i in range(4)),
            client.post("/v1/ask", json={"question": "what are support hours"}))
        for response in shed:
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "2"
            error = response.json()["error"]
            assert error["code"] == "server.overloaded"
            assert error["request_id"] and error["message"]
            assert error["details"] == {"retry_after_s": 2}

        # Health and metrics are never counted against the limit.
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code != 503 or ready.json()["error"]["code"] != "server.overloaded"
        metrics = (await client.get("/metrics")).text
        assert _shed_total(metrics, "/v1/search") == before + 4
        assert _shed_total(metrics, "/v1/ask") >= 1

        embedder.armed = False
        embedder.release.set()
        first = await held
        assert first.status_code == 200, first.text
        assert first.json()["hits"]

        # Load is gone: query requests are admitted again.
        again = await client.post("/v1/search", json={"query": "encryption at rest"})
        assert again.status_code == 200, again.text
        asked = await client.post("/v1/ask", json={"question": "what are support hours"})
        assert asked.status_code == 200, asked.text
