"""Persisted keyword indexes: a BM25 index written once, memory-mapped by every process.

Building an index from the store means reading every chunk of the index (``keyword_corpus``)
and tokenising it: at 1M chunks minutes and gigabytes, in every server and worker process at
start (docs/benchmarks.md). A snapshot is that build written to disk under
``<data_dir>/keyword/``; a process that finds the snapshot of the index's current state loads
it instead (the bm25s arrays memory-mapped read-only, so processes on one host share their
pages through the page cache) and reads nothing from the store but two numbers.

Correctness (P1: PostgreSQL stays the source of truth):

* A snapshot is keyed by the index's **epoch** (a random id fixed when the index row is
  created: another database, a restore or a re-created index never matches), its
  **generation** (bumped by every change to what is searchable), the tenant, the BM25
  parameters and ``FORMAT`` (the tokenizer and layout). Only an exact match is loaded; a
  missing, stale or unreadable snapshot is rebuilt from the store, never served.
* Writing is atomic: the files go to a temporary directory that is renamed into place, so a
  reader sees a whole snapshot or none; older generations of the same index and tenant are
  removed after a newer one is in place (a process still holding one keeps its open maps).
* Even a wrong snapshot could not leak: every keyword hit is re-read from the store with the
  reader's access check before it is shown (``HybridRetriever``), as for an in-memory index.

Replicas on other hosts either keep their own ``data_dir/keyword`` (each builds once, then
loads) or share it on a network volume; see docs/operations.md.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from groundwire.retrieval.keyword import Bm25Index, Bm25Params, FilterRow
from groundwire.retrieval.phrases import PhraseIndex

log = logging.getLogger(__name__)

FORMAT = 2  # bump when the tokenizer, the scoring or the layout below changes (2: phrases)
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_LOAD_LOCK = threading.Lock()  # see KeywordSnapshots.load


@dataclass(frozen=True, slots=True)
class SnapshotKey:
    """What a snapshot must match to be loaded (see the module docstring)."""

    index: str
    tenant: str | None
    epoch: str
    generation: int
    params: Bm25Params

    def folder(self) -> str:
        """``<index>/<tenant>``: one folder per index and tenant (``_all``: every tenant)."""
        tenant = "_all" if self.tenant is None else "t-" + _SAFE.sub("_", self.tenant)
        return f"{_SAFE.sub('_', self.index)}/{tenant}"

    def name(self) -> str:
        return (f"{self.epoch}-g{self.generation}-k{self.params.k1:g}-b{self.params.b:g}"
                f"-p{self.params.phrase_weight:g}-f{FORMAT}")


class KeywordSnapshots:
    """Snapshots under ``root``; ``load`` and ``save`` do file I/O (call them off the event
    loop)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, key: SnapshotKey) -> Path:
        return self.root / key.folder() / key.name()

    def load(self, key: SnapshotKey) -> Bm25Index | None:
        """The snapshot of exactly ``key``, memory-mapped; None when there is none or it
        cannot be read (then the caller rebuilds from the store). Loads run one at a time in
        a process: reading an ``.npy`` header calls ``ast.literal_eval``, and CPython 3.11's
        AST constructor is not safe from two threads at once ("AST constructor recursion
        depth mismatch", seen when several indexes refreshed together)."""
        with _LOAD_LOCK:
            return self._load(key)

    def _load(self, key: SnapshotKey) -> Bm25Index | None:
        import bm25s

        where = self.path(key)
        if not (where / "meta.json").is_file():
            return None
        try:
            meta = json.loads((where / "meta.json").read_text())
            if meta.get("format") != FORMAT or meta.get("generation") != key.generation:
                return None
            chunk_ids = np.load(where / "chunk_ids.npy", mmap_mode="r")
            model = None
            if meta["chunks"]:
                model = bm25s.BM25.load(str(where / "bm25"), mmap=True, load_vocab=True,
                                        show_progress=False)
            readable = _load_positions(where, "readers")
            by_tenant = _load_positions(where, "tenants")
            phrases = None
            if meta["chunks"] and key.params.phrase_weight > 0:
                phrases = PhraseIndex.from_arrays({
                    name: np.load(where / f"phrases.{name}.npy", mmap_mode="r")
                    for name in ("keys", "data", "indices", "indptr", "shape")})
        except (OSError, ValueError, KeyError) as exc:  # a damaged snapshot is rebuilt
            log.warning("keyword snapshot %s unreadable, rebuilding: %s", where, exc)
            return None
        rows_path = where / "rows.jsonl"

        def rows() -> list[FilterRow]:
            with rows_path.open(encoding="utf-8") as f:
                return [FilterRow(*json.loads(line)) for line in f]

        return Bm25Index.from_parts(
            key.generation, chunk_ids, model, str(where) if meta["chunks"] else None,
            readable, by_tenant, rows, phrases, key.params.phrase_weight)

    def save(self, key: SnapshotKey, index: Bm25Index) -> Path:
        """Write ``index`` as the snapshot of ``key`` (atomically), then remove older
        snapshots of the same index and tenant. Returns the snapshot's path."""
        final = self.path(key)
        if (final / "meta.json").is_file():
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
        try:
            np.save(tmp / "chunk_ids.npy", np.asarray(index.chunk_ids, dtype=np.int64))
            if index.model is not None:
                index.model.save(str(tmp / "bm25"), show_progress=False)
                index.tokenizer.save_vocab(str(tmp))
            if index.phrases is not None:
                for name, array in index.phrases.arrays().items():
                    np.save(tmp / f"phrases.{name}.npy", array)
            _save_positions(tmp, "readers", index.readable)
            _save_positions(tmp, "tenants", index.by_tenant)
            with (tmp / "rows.jsonl").open("w", encoding="utf-8") as f:
                for row in index.filter_rows():
                    f.write(json.dumps([row.uri, row.media_type, dict(row.metadata)]) + "\n")
            (tmp / "meta.json").write_text(json.dumps({
                "format": FORMAT, "generation": key.generation, "epoch": key.epoch,
                "chunks": len(index), "k1": key.params.k1, "b": key.params.b,
                "phrase_weight": key.params.phrase_weight}))
            try:
                os.replace(tmp, final)
            except OSError:  # another process put the same snapshot in place first
                if not (final / "meta.json").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._prune(final)
        return final

    def _prune(self, keep: Path) -> None:
        for other in keep.parent.iterdir():
            if other != keep and not other.name.startswith(".tmp-"):
                shutil.rmtree(other, ignore_errors=True)


def _save_positions(folder: Path, name: str, positions: Any) -> None:
    """``{token: positions}`` as the token list plus one concatenated array and offsets."""
    tokens = sorted(positions)
    arrays = [np.asarray(positions[t], dtype=np.int64) for t in tokens]
    offsets = np.cumsum([0, *(len(a) for a in arrays)], dtype=np.int64)
    flat = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
    np.save(folder / f"{name}.npy", flat)
    np.save(folder / f"{name}.offsets.npy", offsets)
    (folder / f"{name}.json").write_text(json.dumps(tokens))


def _load_positions(folder: Path, name: str) -> dict[str, np.ndarray]:
    tokens = json.loads((folder / f"{name}.json").read_text())
    flat = np.load(folder / f"{name}.npy", mmap_mode="r")
    offsets = np.load(folder / f"{name}.offsets.npy")
    return {t: flat[offsets[i]:offsets[i + 1]] for i, t in enumerate(tokens)}
