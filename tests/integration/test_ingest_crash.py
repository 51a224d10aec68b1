"""Crash safety (P3): SIGKILL the real CLI in the middle of an ingest. Every document that is
``indexed`` must have exactly the chunks an uninterrupted run produces for it, no other
document may have chunks, and re-running the ingest completes the index to exactly the state
of an uninterrupted run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from processes import groundwire_exe

pytestmark = pytest.mark.integration

FILES = 300
WORD_TEXT = (
    "river harbour lantern orchard granite meadow copper violin harvest glacier compass "
    "saddle timber falcon ember quarry willow marble canyon thistle beacon cellar pepper "
    "anchor velvet prairie furnace lagoon sparrow cobalt mosaic tundra walnut ribbon cradle "
    "summit garnet kettle pigeon basalt clover dynamo fresco geyser hammock island jasmine "
    "kiln ledger mortar nutmeg obsidian parsley quiver rampart saffron trellis umber vapour"
)
WORDS = WORD_TEXT.split()


def cli_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    env["GROUNDWIRE_DATABASE_URL"] = database_url
    env["GROUNDWIRE_LOG_LEVEL"] = "WARNING"
    env["GROUNDWIRE_AUTOTUNE__ENABLED"] = "false"  # crash safety only: no self-tune after
    return env


def make_corpus(folder: Path) -> Path:
    """``FILES`` text files with distinct content, a few short paragraphs each (one chunk);
    every twentieth file is long enough for several chunks. Kept small so that embedding, which
    dominates the run time, stays quick on a busy 2-core machine."""
    rng = random.Random(20240611)
    folder.mkdir(parents=True)
    for n in range(FILES):
        long = n % 20 == 0
        paragraphs = []
        for p in range(4 if long else 3):
            sentences = []
            for s in range(5 if long else 2):
                words = rng.sample(WORDS, 9 if long else 5)
                sentences.append(f"Document {n} part {p}.{s} mentions " + " ".join(words) + ".")
            paragraphs.append(" ".join(sentences))
        (folder / f"doc-{n:04d}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return folder


def ingest(folder: Path, database_url: str, cwd: Path, *extra: str) -> dict[str, Any]:
    result = subprocess.run(
        [groundwire_exe(), "ingest", str(folder), "--json", *extra],
        cwd=cwd,
        env=cli_env(database_url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def chunk_sets(conn: psycopg.Connection[Any], index: str) -> dict[str, set[tuple[Any, ...]]]:
    rows = conn.execute(
        "SELECT d.uri, c.position, c.content_hash, c.char_start, c.char_end FROM chunks c"
        " JOIN documents d ON d.id = c.document_id WHERE d.index_name = %s",
        [index],
    ).fetchall()
    out: dict[str, set[tuple[Any, ...]]] = {}
    for uri, *rest in rows:
        out.setdefault(uri, set()).add(tuple(rest))
    return out


def states(conn: psycopg.Connection[Any], index: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT uri, state FROM documents WHERE index_name = %s", [index]
    ).fetchall()
    return {uri: state for uri, state in rows}


def wait_for_other_sessions_to_end(conn: psycopg.Connection[Any]) -> None:
    """The killed client's server sessions end (rolling back whatever was open) once the
    server notices the closed socket; read only after that."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        ).fetchone()
        if row is not None and row[0] == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the killed ingest's database sessions did not end")


def test_sigkill_mid_ingest_leaves_documents_complete_or_absent(
    tmp_path: Path, database_url: str
) -> None:
    folder = make_corpus(tmp_path / "corpus")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    stdout = (tmp_path / "killed.stdout").open("wb")
    stderr = (tmp_path / "killed.stderr").open("wb")
    proc = subprocess.Popen(
        [groundwire_exe(), "ingest", str(folder), "--json"],
        cwd=cwd,
        env=cli_env(database_url),
        stdout=stdout,
        stderr=stderr,
    )
    indexed_at_kill = 0
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                try:
                    row = conn.execute(
                        "SELECT count(*) FILTER (WHERE state = 'indexed') FROM documents"
                        " WHERE index_name = 'default'"
                    ).fetchone()
                except psycopg.errors.UndefinedTable:  # the CLI has not migrated yet
                    row = None
                if row is not None and 0 < row[0] < FILES:
                    os.kill(proc.pid, signal.SIGKILL)
                    indexed_at_kill = row[0]
                    break
                time.sleep(0.02)
    finally:
        if proc.poll() is None and not indexed_at_kill:
            proc.kill()
        proc.wait(timeout=60)
        stdout.close()
        stderr.close()
    assert indexed_at_kill, (
        f"could not catch the ingest midway (exit {proc.returncode}); "
        + (tmp_path / "killed.stderr").read_text(errors="replace")[-2000:]
    )
    assert proc.returncode == -signal.SIGKILL

    with psycopg.connect(database_url, autocommit=True) as conn:
        wait_for_other_sessions_to_end(conn)
        with conn.transaction():  # one snapshot for the states and the chunks
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            after_kill = states(conn, "default")
            partial = chunk_sets(conn, "default")
    indexed = {uri for uri, state in after_kill.items() if state == "indexed"}
    assert 0 < len(indexed) < FILES, after_kill
    assert set(after_kill.values()) <= {"indexed", "pending"}
    # Chunks exist only for indexed documents.
    assert set(partial) == indexed

    # An uninterrupted run of the same folder into another index is the reference.
    clean_report = ingest(folder, database_url, cwd, "--index", "clean")
    assert clean_report["documents"] == {
        "indexed": FILES,
        "unchanged": 0,
        "failed": 0,
        "deleted": 0,
    }
    with psycopg.connect(database_url, autocommit=True) as conn:
        clean = chunk_sets(conn, "clean")
    assert len(clean) == FILES
    for uri in indexed:
        assert partial[uri] == clean[uri], f"{uri}: chunks differ from an uninterrupted run"

    # Re-running completes the interrupted index; what was committed is kept as is.
    resumed = ingest(folder, database_url, cwd)
    assert resumed["documents"] == {
        "indexed": FILES - len(indexed),
        "unchanged": len(indexed),
        "failed": 0,
        "deleted": 0,
    }
    assert resumed["errors"] == {}
    assert resumed["chunks_embedded"] == 0  # the reference run stored every vector already
    with psycopg.connect(database_url, autocommit=True) as conn:
        final_states = states(conn, "default")
        final = chunk_sets(conn, "default")
    assert set(final_states.values()) == {"indexed"}
    assert len(final_states) == FILES
    assert final == clean
