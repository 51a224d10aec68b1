"""The ``groundwire`` CLI as a user runs it: a subprocess with ``GROUNDWIRE_DATABASE_URL``
pointing at a real database and a temporary working directory. Checks the ``--json``
shapes, citations, abstention, status, masking of secrets and error exit codes."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from processes import groundwire_exe

pytestmark = pytest.mark.integration

CORPUS: dict[str, str] = {
    "onions.md": """---
team: savoury
---
# Caramelized Onions

Slice the onions thinly and cook them slowly in butter over low heat. Caramelizing onions
properly takes about forty-five minutes; stir every few minutes so they brown evenly.

## Deglazing

When brown bits stick to the pan, add a splash of water or sherry and scrape them up.
""",
    "pasta.md": """---
team: savoury
---
# Cooking Pasta

Use a large pot so the pasta can move freely. Salt the water generously, about ten grams of
salt per litre, once it bubbles vigorously, then add the pasta and stir during the first minute.

Reserve a cup of the starchy cooking water to loosen the sauce before draining.
""",
    "knives.md": """---
team: tools
---
# Sharpening Kitchen Knives

Hold the blade at an angle of about fifteen degrees against a wet whetstone and draw it across
the stone from heel to tip. Start on the coarse side and finish on the fine side.

A honing steel realigns the edge between sharpenings but does not remove metal.
""",
    "bread.html": """<!doctype html><html><head><title>Proofing Bread Dough</title></head><body>
<h1>Proofing Bread Dough</h1>
<p>Let the shaped dough proof in a warm, draught-free place until it has nearly doubled.
A finger pressed into properly proofed dough leaves a dent that springs back slowly.</p>
<p>Over-proofed dough collapses in the oven and bakes into a flat, dense loaf.</p>
</body></html>
""",
    "stock.txt": """Making chicken stock

Roast the chicken bones until golden, then cover them with cold water and simmer gently
with carrots, celery and onion for four hours. Skim the foam that rises to the surface.

Strain the stock and chill it so the fat sets on top and can be lifted off.
""",
}
INDEXED = sorted(CORPUS)
BAD_FILE = "notes.txt"
INGEST_KEYS = {"documents", "chunks_embedded", "chunks_reused", "errors", "access", "autotune"}
DOCUMENT_KEYS = {"indexed", "unchanged", "failed", "deleted"}


@dataclass
class Cli:
    database_url: str
    cwd: Path
    corpus: Path
    ingest_result: subprocess.CompletedProcess[str]

    def run(
        self, *args: str, env: dict[str, str] | None = None, database: bool = True
    ) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
        base["GROUNDWIRE_LOG_LEVEL"] = "WARNING"
        if database:
            base["GROUNDWIRE_DATABASE_URL"] = self.database_url
        base.update(env or {})
        return subprocess.run(
            [groundwire_exe(), *args],
            cwd=self.cwd,
            env=base,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def json(self, *args: str) -> Any:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr[-4000:]
        return json.loads(result.stdout)  # stdout holds exactly one JSON document


@pytest.fixture(scope="module")
def cli(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """One database with the cooking corpus (plus one binary file) ingested by the CLI."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_admin_url.replace("/postgres?", f"/{name}?")
    root = tmp_path_factory.mktemp("cli")
    corpus = root / "corpus"
    corpus.mkdir()
    for file_name, text in CORPUS.items():
        (corpus / file_name).write_text(text, encoding="utf-8")
    (corpus / BAD_FILE).write_bytes(b"\x00\x01binary\x00" + random.Random(7).randbytes(2048))
    cwd = root / "cwd"
    cwd.mkdir()
    cli = Cli(url, cwd, corpus, ingest_result=None)  # type: ignore[arg-type]
    cli.ingest_result = cli.run("ingest", str(corpus), "--json")
    yield cli
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_ingest_json_has_exactly_the_documented_keys(cli: Cli) -> None:
    result = cli.ingest_result
    assert result.returncode == 0, result.stderr[-4000:]
    data = json.loads(result.stdout)
    assert set(data) == INGEST_KEYS
    assert set(data["documents"]) == DOCUMENT_KEYS
    assert data["documents"] == {"indexed": 5, "unchanged": 0, "failed": 1, "deleted": 0}
    assert data["errors"] == {"parse.binary": 1}
    assert isinstance(data["chunks_embedded"], int) and data["chunks_embedded"] > 0
    assert data["chunks_reused"] == 0
    assert data["autotune"] is None  # 5 documents: below autotune.min_documents
    # Nothing but the JSON document goes to stdout (progress and logs go to stderr).
    assert result.stdout.strip().count("\n") == 0


def test_search_json(cli: Cli) -> None:
    data = cli.json("search", "how long does it take to caramelize onions", "--json")
    assert set(data) == {"hits"}
    hits = data["hits"]
    assert hits
    for hit in hits:
        assert {"uri", "title", "text", "score"} <= set(hit)
        assert isinstance(hit["text"], str) and hit["text"]
        assert isinstance(hit["score"], float | int)
        assert hit["uri"] in INDEXED
    assert hits[0]["uri"] == "onions.md"
    assert hits[0]["title"] == "Caramelized Onions"
    assert "forty-five minutes" in " ".join(h["text"] for h in hits if h["uri"] == "onions.md")
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)

    top = cli.json("search", "whetstone angle for sharpening a blade", "--json", "--top-k", "2")
    assert len(top["hits"]) <= 2
    assert top["hits"][0]["uri"] == "knives.md"


def test_search_uri_prefix_filters_before_ranking(cli: Cli) -> None:
    query = "how long does it take to caramelize onions"
    # top-k 1: with 5 documents and the default 10 every document is returned anyway, so a
    # filter applied after ranking (or not at all) would pass too
    best = cli.json("search", query, "--json", "--top-k", "1")
    assert [h["uri"] for h in best["hits"]] == ["onions.md"], "the filter has work to do"
    data = cli.json("search", query, "--json", "--top-k", "1", "--uri-prefix", "knives")
    # filtered before ranking: the best readable match, not the top 1 filtered to nothing
    assert [h["uri"] for h in data["hits"]] == ["knives.md"]


def test_search_meta_filter_selects_exactly_the_matching_documents(cli: Cli) -> None:
    query = "how long does it take to caramelize onions"
    tools = cli.json("search", query, "--json", "--top-k", "1", "--meta", "team=tools")
    assert [h["uri"] for h in tools["hits"]] == ["knives.md"]  # ranked last without it
    savoury = cli.json("search", query, "--json", "--meta", "team=savoury")
    assert {h["uri"] for h in savoury["hits"]} == {"onions.md", "pasta.md"}
    # documents do carry a team, so an unknown value (not a missing key) must match nothing
    none = cli.json("search", query, "--json", "--meta", "team=nobody")
    assert none["hits"] == []


def test_ask_json_cites_every_marker(cli: Cli) -> None:
    data = cli.json("ask", "How long does it take to caramelize onions?", "--json")
    assert {"answer", "abstained", "citations"} <= set(data)
    assert isinstance(data["answer"], str) and data["answer"]
    assert data["abstained"] is False
    citations = data["citations"]
    assert citations
    for citation in citations:
        assert {"n", "uri", "title", "text"} <= set(citation)
        assert citation["uri"] in INDEXED
        assert citation["text"]
    numbers = [c["n"] for c in citations]
    assert len(numbers) == len(set(numbers))
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", data["answer"])}
    assert markers, data["answer"]
    assert markers <= set(numbers), (markers, numbers)
    assert "onions.md" in {c["uri"] for c in citations}
    assert "forty-five minutes" in data["answer"]


def test_ask_json_reports_provider_groundedness_and_degradation(cli: Cli) -> None:
    from support.fault_llm import FaultLLMServer
    from support.llm import grounded_reply, provider

    question = "How long does it take to caramelize onions?"
    with FaultLLMServer(mode="ok") as upstream:
        upstream.reply = grounded_reply
        env = {"GROUNDWIRE_LLM__PROVIDERS": json.dumps([provider("local", upstream)])}
        result = cli.run("ask", question, "--json", env=env)
        assert result.returncode == 0, result.stderr[-4000:]
        data = json.loads(result.stdout)
        assert data["provider"] == "local" and data["degraded"] is False
        assert data["groundedness"] == 1.0 and data["citations"][0]["uri"] == "onions.md"

        upstream.mode = "503"
        result = cli.run("ask", question, "--json", env=env)
        degraded = json.loads(result.stdout)
        assert degraded["degraded"] is True and degraded["provider"] is None
        assert degraded["degraded_reason"] == "llm.http_5xx"
        assert degraded["groundedness"] is None and degraded["citations"]
    plain = cli.json("ask", question, "--json")  # no providers: extractive, not degraded
    assert plain["degraded"] is False and plain["provider"] is None


def test_ask_json_abstains_off_topic(cli: Cli) -> None:
    data = cli.json("ask", "What is the boiling point of liquid nitrogen in Kelvin?", "--json")
    assert data["abstained"] is True
    assert data["citations"] == []
    assert isinstance(data["answer"], str) and data["answer"]
    assert not re.search(r"\[\d+\]", data["answer"])


def test_status_json(cli: Cli) -> None:
    data = cli.json("status", "--json")
    assert data["index"] == "default"
    assert data["documents"] == {"indexed": 5, "failed": 1, "pending": 0}
    assert data["errors"] == {"parse.binary": 1}
    assert isinstance(data["chunks"], int) and data["chunks"] >= 5
    examples = data["failed_examples"]
    assert [e["uri"] for e in examples] == [BAD_FILE]
    assert examples[0]["error_code"] == "parse.binary"
    assert examples[0]["error_message"]


def test_config_show_masks_the_database_password(cli: Cli) -> None:
    result = cli.run(
        "config",
        "show",
        database=False,
        env={"GROUNDWIRE_DATABASE_URL": "postgresql://u:supersecret@127.0.0.1:5/db"},
    )
    assert result.returncode == 0, result.stderr
    assert "supersecret" not in result.stdout
    assert "supersecret" not in result.stderr
    data = json.loads(result.stdout)
    assert data["database_url"].startswith("postgresql://u:")
    assert data["database_url"].endswith("@127.0.0.1:5/db")
    assert data["chunking"]["max_tokens"] == 200


def test_invalid_setting_exits_2_naming_the_setting(cli: Cli) -> None:
    bad = {"GROUNDWIRE_CHUNKING__MAX_TOKENS": "-5"}
    shown = cli.run("config", "show", env=bad)
    assert shown.returncode == 2, (shown.stdout, shown.stderr)
    assert "chunking.max_tokens" in shown.stderr

    status = cli.run("status", "--json", env=bad)
    assert status.returncode == 2, (status.stdout, status.stderr)
    error = json.loads(status.stdout)["error"]
    assert error["code"] == "config.invalid"
    assert "chunking.max_tokens" in error["message"]


def test_empty_query_is_a_json_error(cli: Cli) -> None:
    result = cli.run("search", "", "--json")
    assert result.returncode == 2, (result.stdout, result.stderr)
    data = json.loads(result.stdout)
    assert set(data) == {"error"}
    assert data["error"]["code"] == "request.invalid"
    assert data["error"]["message"]
