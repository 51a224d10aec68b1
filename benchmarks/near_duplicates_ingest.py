"""Cost of near-duplicate marking at ingest on ~10k documents: the emanual corpus (9,978
manual sections, many repeated across manuals: the worst case for candidate lookups) ingested
with the fake embedder into two fresh indexes of one embedded PostgreSQL, marking off and
on (``newer_by = modified_then_ingested`` so marks are really written; the default
``modified`` marks none of these records, which share one modified time). Reports wall
time of each ingest, the documents marked, and the stored signature bytes.

    GROUNDWIRE_DATA_DIR=.bench-data/dups .venv/bin/python benchmarks/near_duplicates_ingest.py \
        [--data ../shared/data] [--limit 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import time
from pathlib import Path
from typing import Any

from groundwire.bootstrap import build_app
from groundwire.domain import Permissions, SourceItem
from groundwire.settings import Settings


def items(data: Path, limit: int) -> list[SourceItem]:
    with gzip.open(data / "emanual" / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh][:limit]
    return [SourceItem(uri=r["id"], media_type="text/plain", read=lambda: b"", text=r["text"],
                       title=r["title"], permissions=Permissions(everyone=True)) for r in rows]


async def ingest(mode: str, run: int, docs: list[SourceItem]) -> dict[str, Any]:
    dups = ({"enabled": False} if mode == "off"
            else {"newer_by": "modified_then_ingested"})
    settings = Settings(embedding={"provider": "fake"}, ingest={"near_duplicates": dups})
    index = f"bench-dups-{mode}-{run}-{int(time.time())}"
    async with build_app(settings) as gw:
        started = time.perf_counter()
        report = await gw.ingest_items(docs, index=index, source=("bench", "emanual"))
        seconds = time.perf_counter() - started
        marked = await gw.store.count_duplicates(index)
        async with gw.store._connection() as conn:  # noqa: SLF001 - a benchmark reads sizes
            row = await (await conn.execute(
                "SELECT coalesce(sum(octet_length(minhash)), 0),"
                " coalesce(sum(array_length(minhash_bands, 1)) * 8, 0),"
                " pg_size_pretty(pg_relation_size('documents_minhash_bands_idx'))"
                " FROM documents WHERE index_name = %s", [index])).fetchone()
    return {"mode": mode, "documents": report.indexed, "seconds": round(seconds, 1),
            "marked": marked, "signature_bytes": int(row[0]), "band_key_bytes": int(row[1]),
            "bands_gin_index_all_indexes": row[2]}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--limit", type=int, default=10000)
    args = parser.parse_args()
    docs = items(args.data, args.limit)
    for run, mode in enumerate(("off", "on", "off", "on")):  # alternating: load hits both
        print(json.dumps(await ingest(mode, run, docs)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
