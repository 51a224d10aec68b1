"""Incremental ingest on the real store and the real model: unchanged input embeds nothing,
an edit re-embeds only the chunks whose text changed, deletions leave search, identical
content shares embeddings (keyed by content hash) and reverting an edit embeds nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from groundwire.bootstrap import build_app
from groundwire.domain import DocumentState, SearchRequest

pytestmark = pytest.mark.integration

SOURDOUGH_MIXING = (
    "Mix the flour and water first and let the dough rest for forty minutes before adding "
    "the salt. This pause, called the autolyse, lets the gluten develop on its own."
)
SOURDOUGH_MIXING_EDITED = (
    "Mix the flour, water and levain together, then fold in the salt after a short rest of "
    "twenty minutes. Shorter rests suit weaker flours with less protein."
)

CORPUS: dict[str, str] = {
    "sourdough.md": f"""# Sourdough Bread

## Starter

Feed the starter with equal weights of rye flour and water every twelve hours. A healthy
starter doubles within six hours of a feeding and smells pleasantly sour.

## Mixing

{SOURDOUGH_MIXING}

## Baking

Bake the loaf in a preheated cast iron pot at two hundred and fifty degrees with the lid on for
twenty minutes, then remove the lid so the crust can darken and crackle.
""",
    "espresso.md": """# Espresso Extraction

A shot of espresso uses about eighteen grams of finely ground coffee. Water at ninety-three
degrees is pushed through the puck at nine bars of pressure for roughly twenty-eight seconds.

## Channeling

When water finds a crack in the puck it rushes through it, leaving the rest under-extracted.
Even tamping and distribution tools reduce channeling.
""",
    "bicycle.txt": """Keeping a bicycle chain clean

Wipe the chain with a rag after every wet ride and apply a drop of lubricant to each roller.
Excess oil attracts grit, so wipe the outside of the chain again after ten minutes.

Replace the chain when a chain checker shows more than half a percent of stretch, otherwise
the worn chain will quickly wear out the cassette and the chainrings as well.
""",
    "tomatoes.md": """# Growing Tomatoes

Tomato seedlings need at least eight hours of direct sunlight and deep, infrequent watering.
Pinch off the suckers that grow between the main stem and the branches.

## Diseases

Early blight shows as brown rings on the lower leaves. Remove affected leaves and water at
the base of the plant rather than on the foliage.
""",
    "cloves.txt": """Notes on the Zanzibar clove harvest

Clove buds are picked by hand on Pemba island just before they open, when they turn from green
to a pinkish red. The buds are spread on palm mats to dry in the sun for four or five days.

A mature clove tree can yield several kilograms of dried buds in a good season.
""",
    "chess.md": """# Chess Openings

The Sicilian Defence answers the king's pawn opening by contesting the centre from the
flank. The Queen's Gambit offers a wing pawn to gain central control.

## Endgames

In king and pawn endgames, opposition decides whether the pawn can be promoted.
""",
}
DELETED_PHRASE = "Zanzibar clove harvest on Pemba island"


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in CORPUS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def chunk_hashes(database_url: str, uri: str, index: str = "default") -> list[str]:
    """Content hashes of one document's chunks, in position order."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT c.content_hash FROM chunks c JOIN documents d ON d.id = c.document_id"
            " WHERE d.index_name = %s AND d.uri = %s ORDER BY c.position",
            [index, uri],
        ).fetchall()
    return [r[0] for r in rows]


def embedding_hashes(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        return {r[0] for r in conn.execute("SELECT content_hash FROM embeddings").fetchall()}


async def top_uris(gw: Any, query: str) -> list[str]:
    hits, _ = await gw.search(SearchRequest(query=query, index="default", top_k=10))
    return [h.uri for h in hits]


async def test_reingest_unchanged_embeds_nothing(
    tmp_path: Path, make_settings: Callable[..., Any], real_embedder: Any, database_url: str
) -> None:
    folder = write_corpus(tmp_path / "docs")
    async with build_app(make_settings(), embedder=real_embedder) as gw:
        first = await gw.ingest_path(folder)
        assert first.indexed == 6
        assert first.failed == 0 and first.unchanged == 0
        assert first.chunks_embedded > 0
        stored = embedding_hashes(database_url)
        assert len(stored) == first.chunks_embedded

        again = await gw.ingest_path(folder)
        assert again.chunks_embedded == 0
        assert again.unchanged == 6
        assert again.indexed == 0
        assert again.failed == 0 and again.deleted == 0
        assert embedding_hashes(database_url) == stored

        stats = await gw.stats()
        assert stats.documents_by_state[DocumentState.INDEXED] == 6


async def test_edit_embeds_only_changed_chunks_and_revert_embeds_nothing(
    tmp_path: Path, make_settings: Callable[..., Any], real_embedder: Any, database_url: str
) -> None:
    folder = write_corpus(tmp_path / "docs")
    edited = folder / "sourdough.md"
    original_text = edited.read_text(encoding="utf-8")
    async with build_app(make_settings(), embedder=real_embedder) as gw:
        await gw.ingest_path(folder)
        before = chunk_hashes(database_url, "sourdough.md")
        assert len(before) >= 3  # one chunk per section: the edit touches only one of them
        stored_before = embedding_hashes(database_url)

        edited.write_text(original_text.replace(SOURDOUGH_MIXING, SOURDOUGH_MIXING_EDITED))
        report = await gw.ingest_path(folder)
        after = chunk_hashes(database_url, "sourdough.md")
        changed = [h for h in after if h not in before]

        assert len(after) == len(before)
        assert len(changed) == 1  # only the "Mixing" section's chunk has new text
        assert report.indexed == 1
        assert report.unchanged == 5
        assert report.chunks_embedded == len(changed)
        assert report.chunks_reused == len(after) - len(changed)
        assert embedding_hashes(database_url) == stored_before | set(changed)
        assert "sourdough.md" in (await top_uris(gw, "fold in the salt after twenty minutes"))[:1]

        # Back to the previous content: the old vectors are still stored by content hash.
        edited.write_text(original_text, encoding="utf-8")
        reverted = await gw.ingest_path(folder)
        assert reverted.indexed == 1
        assert reverted.unchanged == 5
        assert reverted.chunks_embedded == 0
        assert reverted.chunks_reused == len(before)
        assert chunk_hashes(database_url, "sourdough.md") == before
        assert embedding_hashes(database_url) == stored_before | set(changed)


async def test_deleted_file_leaves_search(
    tmp_path: Path, make_settings: Callable[..., Any], real_embedder: Any, database_url: str
) -> None:
    folder = write_corpus(tmp_path / "docs")
    async with build_app(make_settings(), embedder=real_embedder) as gw:
        await gw.ingest_path(folder)
        assert (await top_uris(gw, DELETED_PHRASE))[0] == "cloves.txt"

        (folder / "cloves.txt").unlink()
        report = await gw.ingest_path(folder)
        assert report.deleted == 1
        assert report.unchanged == 5
        assert report.indexed == 0 and report.chunks_embedded == 0

        uris = await top_uris(gw, DELETED_PHRASE)
        assert uris, "the other documents are still searchable"
        assert "cloves.txt" not in uris
        assert chunk_hashes(database_url, "cloves.txt") == []
        documents = await gw.documents()
        assert sorted(d.uri for d in documents) == sorted(set(CORPUS) - {"cloves.txt"})
        stats = await gw.stats()
        assert stats.documents_by_state[DocumentState.INDEXED] == 5

        # Deleting is idempotent: a second run deletes nothing more.
        again = await gw.ingest_path(folder)
        assert again.deleted == 0 and again.unchanged == 5


async def test_identical_content_gets_own_document_and_shares_embeddings(
    tmp_path: Path, make_settings: Callable[..., Any], real_embedder: Any, database_url: str
) -> None:
    folder = write_corpus(tmp_path / "docs")
    async with build_app(make_settings(), embedder=real_embedder) as gw:
        await gw.ingest_path(folder)
        original = chunk_hashes(database_url, "tomatoes.md")
        stored = embedding_hashes(database_url)
        assert original

        # Same bytes under another name (the H1 title makes the chunk headers identical too).
        shutil.copyfile(folder / "tomatoes.md", folder / "tomatoes-copy.md")
        report = await gw.ingest_path(folder)
        assert report.indexed == 1
        assert report.unchanged == 6
        assert report.chunks_embedded == 0
        assert report.chunks_reused == len(set(original))
        assert embedding_hashes(database_url) == stored

        copy_hashes = chunk_hashes(database_url, "tomatoes-copy.md")
        assert copy_hashes == original
        documents = {d.uri: d for d in await gw.documents()}
        assert len(documents) == 7
        copy, first = documents["tomatoes-copy.md"], documents["tomatoes.md"]
        assert copy.id != first.id
        assert copy.state == DocumentState.INDEXED
        assert copy.chunk_count == first.chunk_count == len(original)
        assert copy.content_hash == first.content_hash

        # Identical passages collapse into one hit: the copy is not shown a second time.
        uris = await top_uris(gw, "brown rings on the lower tomato leaves")
        assert uris[0] in {"tomatoes.md", "tomatoes-copy.md"}
        assert len({"tomatoes.md", "tomatoes-copy.md"} & set(uris)) == 1
