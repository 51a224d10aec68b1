"""``groundwire db backup`` / ``db restore`` (the real console script) against an external
database URL: back up, delete a document, restore — the document is back and searchable, also
through an app that stayed open across the restore (generations never go backwards)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from processes import clean_env, groundwire_exe

from groundwire.bootstrap import build_app
from groundwire.domain import SearchRequest
from groundwire.settings import Settings

pytestmark = pytest.mark.integration

DOCS = {
    "otters.md": "# Otters\n\nSea otters hold hands while they sleep so they do not drift.\n",
    "herons.md": "# Herons\n\nGrey herons stand still in shallow water to catch fish.\n",
}


def _cli(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(GROUNDWIRE_DATABASE_URL=database_url,
                    GROUNDWIRE_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([groundwire_exe(), "db", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


async def _uris(gw: object, query: str) -> list[str]:
    hits, _ = await gw.search(SearchRequest(query=query, index="default", top_k=3))  # type: ignore[attr-defined]
    return [h.uri for h in hits]


async def test_backup_delete_restore_brings_the_document_back(
    database_url: str, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data",
                        embedding={"provider": "fake"}, autotune={"enabled": False})
    dump = tmp_path / "backups" / "before-delete.dump"
    async with build_app(settings) as gw:
        assert (await gw.ingest_path(corpus)).indexed == 2
        assert (await _uris(gw, "grey herons catch fish"))[:1] == ["herons.md"]

        done = await asyncio.to_thread(_cli, database_url, tmp_path, "backup", "--out",
                                       str(dump), "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["backup"] == str(dump) and dump.stat().st_size > 0

        heron = next(d for d in await gw.store.list_documents("default")
                     if d.uri == "herons.md")
        assert await gw.store.delete_document(heron.id)
        deleted_at = await gw.store.generation("default")
        assert "herons.md" not in await _uris(gw, "grey herons catch fish")

        refused = await asyncio.to_thread(_cli, database_url, tmp_path, "restore", str(dump),
                                          "--json")
        assert refused.returncode == 2
        assert json.loads(refused.stdout)["error"]["code"] == "db.restore_unconfirmed"
        assert "herons.md" not in await _uris(gw, "grey herons catch fish")  # unchanged

        restored = await asyncio.to_thread(_cli, database_url, tmp_path, "restore", str(dump),
                                           "--yes")
        assert restored.returncode == 0, restored.stderr
        # The counter moved on (not back to the backup's value): this open app's derived
        # keyword snapshot and answer cache see the change.
        assert await gw.store.generation("default") > deleted_at
        await gw.keyword.refresh_index("default")
        assert (await _uris(gw, "grey herons catch fish"))[:1] == ["herons.md"]

    async with build_app(settings) as fresh:  # a process started after the restore
        assert (await _uris(fresh, "grey herons catch fish"))[:1] == ["herons.md"]
        assert sorted(d.uri for d in await fresh.store.list_documents("default")) == sorted(DOCS)


def test_backup_of_the_embedded_server_and_missing_file(tmp_path: Path) -> None:
    env = clean_env(GROUNDWIRE_DATA_DIR=str(tmp_path / "d"))
    run = subprocess.run([groundwire_exe(), "db", "backup", "--json"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    dump = Path(json.loads(run.stdout)["backup"])
    assert dump.parent == (tmp_path / "d" / "backups").resolve() or dump.parent == (
        tmp_path / "d" / "backups")
    assert dump.name.startswith("groundwire-") and dump.stat().st_size > 0
    missing = subprocess.run([groundwire_exe(), "db", "restore", str(tmp_path / "nope.dump"),
                              "--yes", "--json"], env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=300)
    assert missing.returncode == 2
    assert json.loads(missing.stdout)["error"]["code"] == "db.backup_missing"
