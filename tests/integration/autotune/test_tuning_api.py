"""The self-tuning surface over HTTP: an ingest job that changes an index materially re-tunes
it in the background, and ``GET /v1/indexes/{index}/tuning`` shows the settings in effect
with their evidence. The fake embedder keeps this fast (the direction of tuning is tested with
the real model in ``test_autotune_direction.py``)."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


def _corpus(folder: Path, docs: int) -> None:
    rng = random.Random(11)
    vocab = ["".join(rng.choices(string.ascii_lowercase, k=6)) for _ in range(400)]
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(docs):
        text = " ".join(" ".join(rng.sample(vocab, 8)).capitalize() + "." for _ in range(3))
        (folder / f"doc{d:03d}.txt").write_text(text + "\n")


def test_ingest_job_auto_tunes_and_the_api_shows_the_evidence(
    make_settings: Callable[..., Any], tmp_path: Path
) -> None:
    from groundwire.api.app import create_app

    settings = make_settings(embedding={"provider": "fake"},
                             autotune={"min_documents": 30, "questions": 60})
    corpus = tmp_path / "corpus"
    _corpus(corpus, 40)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        gw = client.app.state.groundwire  # type: ignore[attr-defined]
        before = client.get("/v1/indexes/default/tuning")
        assert before.status_code == 200
        assert before.json()["source"] == "default" and before.json()["auto"] is None

        job = client.post("/v1/ingest", json={"path": str(corpus), "index": "rt", "wait": True})
        assert job.status_code == 200, job.text

        async def wait_autotune() -> Any:
            return await gw.autotune_tasks["rt"]

        result = client.portal.call(wait_autotune)  # type: ignore[union-attr]
        assert result is not None
        body = client.get("/v1/indexes/rt/tuning").json()
        assert body["source"] == "auto"
        assert body["params"] == result.tuning.model_dump() == body["auto_params"]
        evidence = body["auto"]
        assert evidence["questions"] == 60 and evidence["documents"] == 40
        assert set(evidence["held_out_ndcg@10"]) >= {"bm25", "dense", "equal_convex", "tuned"}

        # Re-ingesting the same folder changes nothing: no new auto-tune.
        again = client.post("/v1/ingest", json={"path": str(corpus), "index": "rt", "wait": True})
        assert again.status_code == 200
        second = client.portal.call(wait_autotune)  # type: ignore[union-attr]
        assert second is None

        missing = client.get("/v1/indexes/nope/tuning")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"]
