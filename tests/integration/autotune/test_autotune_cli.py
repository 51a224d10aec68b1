"""``groundwire tune --auto`` and ``groundwire status`` as a user runs them (subprocesses on a
real database; the fake embedder keeps it fast): the tuning is stored, a second process sees
it in ``status``, tuning refuses an index without the served model's vectors, and ``tune``
without --dataset or --auto is a usage error."""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
from pathlib import Path

import pytest
from processes import groundwire_exe

pytestmark = pytest.mark.integration


def test_tune_auto_is_stored_and_status_shows_it(database_url: str, tmp_path: Path) -> None:
    rng = random.Random(3)
    vocab = ["".join(rng.choices(string.ascii_lowercase, k=6)) for _ in range(300)]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for d in range(30):
        text = " ".join(" ".join(rng.sample(vocab, 8)).capitalize() + "." for _ in range(3))
        (corpus / f"d{d:02d}.txt").write_text(text + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    env.update(GROUNDWIRE_DATABASE_URL=database_url, GROUNDWIRE_DATA_DIR=str(tmp_path / "data"),
               GROUNDWIRE_EMBEDDING__PROVIDER="fake", GROUNDWIRE_LOG_LEVEL="WARNING",
               GROUNDWIRE_AUTOTUNE__MIN_DOCUMENTS="10")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([groundwire_exe(), *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)

    # A material ingest self-tunes, as a served ingest job does (30 documents >= 10).
    ingest = run("ingest", str(corpus), "--index", "rt")
    assert ingest.returncode == 0, ingest.stderr
    assert "auto-tuned retrieval: " in ingest.stdout
    again = run("ingest", str(corpus), "--index", "rt", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["autotune"] is None  # nothing changed: no re-tune
    skipped = run("ingest", str(corpus), "--index", "rt2", "--json", "--no-autotune")
    assert skipped.returncode == 0, skipped.stderr
    assert json.loads(skipped.stdout)["autotune"] is None  # material, but not asked for
    tuned = run("tune", "--auto", "--index", "rt", "--questions", "60", "--json")
    assert tuned.returncode == 0, tuned.stderr
    result = json.loads(tuned.stdout)
    assert result["evidence"]["questions"] == 60
    assert result["in_effect"] == "auto"
    status = run("status", "--index", "rt", "--json")
    assert status.returncode == 0, status.stderr
    retrieval = json.loads(status.stdout)["retrieval"]
    assert retrieval["source"] == "auto"
    assert retrieval["params"] == result["params"]
    assert retrieval["auto"]["held_out_ndcg@10"] == result["evidence"]["held_out_ndcg@10"]
    human = run("status", "--index", "rt")
    assert "retrieval (auto)" in human.stdout and "pseudo-questions" in human.stdout

    # A served model whose vectors the index does not have (switched without re-embedding):
    # tuning would see only the re-embedded answers and call dense perfect, so it refuses.
    env["GROUNDWIRE_EMBEDDING__MODEL"] = "fake-48"
    unembedded = run("tune", "--auto", "--index", "rt", "--questions", "60", "--json")
    assert unembedded.returncode != 0
    error = json.loads(unembedded.stdout)["error"]
    assert error["code"] == "autotune.vectors_missing" and "fake-48" in error["message"]
    del env["GROUNDWIRE_EMBEDDING__MODEL"]

    usage = run("tune", "--json")
    assert usage.returncode == 2
    assert json.loads(usage.stdout)["error"]["code"]
    unknown = run("tune", "--auto", "--index", "nope", "--json")
    assert unknown.returncode == 3
