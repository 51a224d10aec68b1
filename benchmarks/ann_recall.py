"""pgvector HNSW recall against exact search, for a few ``hnsw.ef_search`` values.

Runs the store's own vector query (partial HNSW index, iterative scan, index/state filters)
for every labelled query of a dataset and compares its top 10 / top 100 chunks with an exact
cosine ranking computed in NumPy over the same vectors. Needs the dataset's index (run
``groundwire eval --dataset DIR`` first with the same data dir).

    GROUNDWIRE_DATA_DIR=.bench-data .venv/bin/python benchmarks/ann_recall.py \
        [--dataset ../shared/data/scifact]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, report

from groundwire.bootstrap import build_embedder
from groundwire.quality.datasets import load_dataset
from groundwire.settings import load_settings
from groundwire.stores.postgres.embedded import EmbeddedPostgres
from groundwire.stores.postgres.store import PostgresStore

EF_VALUES = [40, 100, 200]


async def run(root: Path) -> list[dict[str, Any]]:
    import psycopg

    ds = load_dataset(root)
    index = ds.default_index
    settings = load_settings()
    provider = None
    if settings.database_url:
        url = settings.database_url.get_secret_value()
    else:
        provider = EmbeddedPostgres(settings.data_dir)
        url = provider.url()
    embedder = build_embedder(settings)
    queries = [ds.queries[q] for q in ds.queries if q in ds.qrels]
    vectors = embedder.encode_passages(queries)
    with psycopg.connect(url) as conn:  # the stored vectors of the index, read once
        stored = conn.execute(
            "SELECT c.id, e.embedding::text FROM embeddings e"
            " JOIN chunks c ON c.content_hash = e.content_hash"
            " JOIN documents d ON d.id = c.document_id"
            " WHERE e.model_id = %s AND d.index_name = %s AND d.state = 'indexed'",
            [embedder.model_id, index],
        ).fetchall()
    ids = np.array([r[0] for r in stored])
    matrix = np.array([np.array(r[1][1:-1].split(","), dtype=np.float32) for r in stored])
    exact = [ids[np.argsort(-(matrix @ v))[:100]].tolist() for v in vectors]
    rows = []
    for ef in EF_VALUES:
        store = PostgresStore(url, ef_search=ef)
        await store.open()
        r10 = r100 = 0.0
        for v, truth in zip(vectors, exact, strict=True):
            found = [cid for cid, _ in await store.vector_search(
                index, embedder.model_id, v.tolist(), 100)]
            r10 += len(set(found[:10]) & set(truth[:10])) / 10
            r100 += len(set(found) & set(truth)) / 100
        await store.close()
        rows.append({"ef_search": ef, "recall@10": round(r10 / len(vectors), 4),
                     "recall@100": round(r100 / len(vectors), 4)})
    if provider is not None:
        provider.release()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=DATA / "scifact")
    args = parser.parse_args()
    rows = asyncio.run(run(args.dataset))
    report("ann_recall", {"dataset": args.dataset.name, "results": rows}, rows)


if __name__ == "__main__":
    main()
