"""Scale: build an index of N synthetic chunks and measure build time, size, latency, recall.

    nice -n 10 .venv/bin/python benchmarks/scale.py --chunks 100000 [--compare-vector]
        [--curve 20,40,64,100,200] [--maintenance-work-mem 4GB] [--data-dir DIR]
        [--sweep 8:64,16:64,16:128,32:64 --no-http]     # HNSW m / ef_construction

**Corpus.** Text from a real vocabulary: each chunk is three sentences drawn at random from the
SQuAD v1.1 dev and SciFact corpora under ``../shared/data`` (read at run time, never copied into
the repository), with the title of the first sentence's source as its header; ten chunks per
document. Every chunk is distinct (the draw of ordered sentence triples practically never
repeats), so N chunks mean N stored vectors.

**Embedding stand-in.** Real-model embedding of 1M chunks takes hours on 2 cores, so vectors come
from the ``fake`` embedder at 384 dimensions (``embedding.model = "fake-384"``, the dimension of
the real all-MiniLM-L6-v2): a fixed hash-seeded random vector per word, a text is the normalised
sum of its words' vectors. The script computes exactly those vectors, but as one sparse
(chunks x vocabulary) count matrix times the vocabulary's word-vector matrix instead of word by
word. The server encodes queries with the same fake embedder, so dense search is consistent.
Such vectors have no semantic clusters, which makes HNSW's job *harder* than with a real model
(recall here is a lower bound). The real model's query-encode cost is measured separately
(``query_encode_ms``) and is the part of a real ``/v1/search`` the stand-in leaves out.

**Load** goes through the store's bulk path (``PostgresStore.commit_documents``: pipelined
document upserts, ``COPY`` of chunks and embeddings, one transaction per batch) with the model's
HNSW index dropped, then built once (``build_vector_index``, ``maintenance_work_mem`` large
enough to keep the graph in memory).

**Measures.** Build (load, HNSW build, BM25 load in the server from its log); database size
(``pg_database_size`` and the largest relations); recall@10 of the HNSW index against exact
search (NumPy over the float32 vectors) over ``--queries`` SQuAD/SciFact questions, with the
in-process vector-query latency, for each ``hnsw.ef_search`` of ``--curve``; ``/v1/search``
p50/p95 over HTTP (a real ``groundwire serve`` on 127.0.0.1) at 1 and 10 concurrent clients,
with the server's own stage timings (``timings_ms``); ``--compare-vector`` also builds a
``vector`` (float32) HNSW index over the same rows and reports its recall, build time and size
next to ``halfvec``'s. ``--copy-compare`` measures the write path alone (rows/s, COPY vs the
previous ``executemany`` statements) on a scratch index.

The data dir (default ``.bench-data/scale-<N>``) is reused by later runs with the same N.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gzip
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, REPO, free_port, report, wait_ready

from groundwire.domain import Chunk
from groundwire.domain.documents import passage_text
from groundwire.quality.metrics import percentile
from groundwire.stores.base import DocumentWrite

INDEX = "scale"
MODEL = "fake-384"
DIM = 384
PER_DOC = 10
BATCH_DOCS = 100  # documents per commit (1,000 chunks)
_WORD = re.compile(r"\w+", re.UNICODE)
_SENT = re.compile(r"(?<=[.!?])\s+")


# ----------------------------------------------------------------------------- corpus
def _paragraphs() -> list[tuple[str, list[str]]]:
    """(title, sentences of >= 5 words) of every SQuAD dev and SciFact passage."""
    out = []
    for path in (DATA / "squad-v1.1-dev" / "corpus.jsonl", DATA / "scifact" / "corpus.jsonl.gz"):
        with gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(
                encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                sents = [s for s in _SENT.split(row["text"]) if len(s.split()) >= 5]
                if sents:
                    out.append((row.get("title") or "Untitled", sents))
    return out


def _queries(n: int) -> list[str]:
    texts = []
    for path in (DATA / "squad-v1.1-dev" / "queries.jsonl", DATA / "scifact" / "queries.jsonl"):
        texts += [json.loads(line)["text"] for line in path.read_text().splitlines()]
    return random.Random(11).sample(texts, n)


def _documents(n_chunks: int, paragraphs: list[tuple[str, list[str]]]) -> Iterator[
        list[DocumentWrite]]:
    """Batches of BATCH_DOCS documents of PER_DOC chunks each, deterministic."""
    rng = random.Random(7)
    flat = [(t, s) for t, sents in paragraphs for s in sents]
    n_docs = (n_chunks + PER_DOC - 1) // PER_DOC
    batch: list[DocumentWrite] = []
    for d in range(n_docs):
        title = paragraphs[rng.randrange(len(paragraphs))][0]
        chunks, offset = [], 0
        for p in range(min(PER_DOC, n_chunks - d * PER_DOC)):
            text = " ".join(flat[rng.randrange(len(flat))][1] for _ in range(3))
            chunks.append(Chunk(position=p, text=text, header=title, heading_path=(),
                                char_start=offset, char_end=offset + len(text),
                                token_count=len(text.split())))
            offset += len(text) + 1
        batch.append(DocumentWrite(
            uri=f"synthetic/{d:07d}.txt", title=title, media_type="text/plain",
            content_hash=f"doc-{d}", pipeline_fingerprint="scale-bench", chunks=chunks,
            size_bytes=offset))
        if len(batch) == BATCH_DOCS:
            yield batch
            batch = []
    if batch:
        yield batch


class WordVectors:
    """The fake embedder's vectors (embedding/fake.py) as a sparse count matrix times a
    word-vector matrix: identical results, thousands of times faster over millions of texts."""

    def __init__(self) -> None:
        from groundwire.embedding.fake import FakeEmbedder

        self._fake = FakeEmbedder(DIM)
        self._ids: dict[str, int] = {}
        self._rows: list[np.ndarray] = []
        self._matrix = np.zeros((0, DIM), dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from scipy.sparse import csr_matrix

        indptr, indices = [0], []
        for text in texts:
            for word in _WORD.findall(text.lower()):
                i = self._ids.get(word)
                if i is None:
                    i = self._ids[word] = len(self._rows)
                    self._rows.append(self._fake._word(word))
                indices.append(i)
            indptr.append(len(indices))
        if len(self._rows) > len(self._matrix):
            self._matrix = np.vstack([self._matrix, np.stack(self._rows[len(self._matrix):])])
        counts = csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                            shape=(len(texts), len(self._rows)))
        counts.sum_duplicates()
        vecs = np.asarray(counts @ self._matrix, dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vecs / norms


# ----------------------------------------------------------------------------- build
async def _sql(store: Any, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    async with store._connection() as conn:
        cur = await conn.execute(query, params)
        return await cur.fetchall() if cur.description else []


async def build(store: Any, n_chunks: int, args: argparse.Namespace) -> dict[str, Any]:
    """Load N chunks (HNSW index dropped), build the index; returns timings."""
    await store.ensure_index(INDEX)
    source = await store.ensure_source(INDEX, "push", "scale-bench")
    encoder = WordVectors()
    paragraphs = _paragraphs()
    loaded = embed_s = 0.0
    started = time.perf_counter()
    dropped = False
    for batch in _documents(n_chunks, paragraphs):
        batch = [dataclasses.replace(d, source_id=source) for d in batch]
        chunks = [c for d in batch for c in d.chunks]
        t0 = time.perf_counter()
        vecs = encoder.encode([c.search_text for c in chunks])
        embed_s += time.perf_counter() - t0
        embeddings = {c.content_hash: v for c, v in zip(chunks, vecs, strict=True)}
        await store.commit_documents(INDEX, batch, embeddings, MODEL)
        if not dropped:  # the first commit registered the model and created its index
            await store.drop_vector_index(MODEL)
            dropped = True
        loaded += len(chunks)
        if int(loaded) % 50_000 < len(chunks):
            print(f"loaded {int(loaded)}/{n_chunks} chunks"
                  f" ({time.perf_counter() - started:.0f} s)", flush=True)
    load_s = time.perf_counter() - started
    await _sql(store, "VACUUM ANALYZE")
    t0 = time.perf_counter()
    await store.build_vector_index(MODEL, maintenance_work_mem=args.maintenance_work_mem,
                                   parallel_workers=args.parallel_workers)
    hnsw_s = time.perf_counter() - t0
    return {"chunks": int(loaded), "load_s": round(load_s, 1),
            "embed_standin_s": round(embed_s, 1),
            "load_rows_per_s": round(loaded / (load_s - embed_s)),
            "hnsw_build_s": round(hnsw_s, 1)}


async def sizes(store: Any) -> dict[str, Any]:
    db = (await _sql(store, "SELECT pg_database_size(current_database())"))[0][0]
    rels = await _sql(
        store,
        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
        " AND c.relkind IN ('r', 'i') ORDER BY 2 DESC LIMIT 8")
    return {"database_mb": round(db / 2**20), "relations_mb": {
        name: round(size / 2**20) for name, size in rels}}


# ----------------------------------------------------------------------------- recall
async def exact_top10(store: Any, queries: np.ndarray) -> list[set[int]]:
    """Exact cosine top-10 chunk ids per query, in NumPy over the stored rows' float32
    vectors (recomputed from the text, as loaded)."""
    rows = await _sql(
        store, "SELECT c.id, d.title, c.text FROM chunks c JOIN documents d"
        " ON d.id = c.document_id WHERE d.index_name = %s AND d.state = 'indexed'"
        " ORDER BY c.id", [INDEX])
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    encoder = WordVectors()
    scores = np.zeros((len(queries), len(rows)), dtype=np.float32)
    for s in range(0, len(rows), 50_000):
        part = rows[s:s + 50_000]
        mat = encoder.encode([passage_text(r[1], r[2]) for r in part])
        scores[:, s:s + len(part)] = queries @ mat.T
    del rows
    top = np.argpartition(-scores, 10, axis=1)[:, :10]
    return [set(ids[t].tolist()) for t in top]


async def recall_curve(store: Any, queries: np.ndarray, exact: list[set[int]],
                       efs: Sequence[int]) -> list[dict[str, Any]]:
    out = []
    for ef in efs:
        store._ef_search = ef
        got, lat = [], []
        for q in queries[:20]:  # warm the pages this ef touches
            await store.vector_search(INDEX, MODEL, q.tolist(), 10)
        for q, truth in zip(queries, exact, strict=True):
            t0 = time.perf_counter()
            hits = await store.vector_search(INDEX, MODEL, q.tolist(), 10)
            lat.append((time.perf_counter() - t0) * 1000)
            got.append(len({h for h, _ in hits} & truth) / 10)
        out.append({"ef_search": ef, "recall@10": round(float(np.mean(got)), 4),
                    "p50_ms": round(percentile(lat, 0.5), 2),
                    "p95_ms": round(percentile(lat, 0.95), 2)})
        print(json.dumps(out[-1]), flush=True)
    return out


async def compare_vector(store: Any, queries: np.ndarray, exact: list[set[int]],
                         ef: int, args: argparse.Namespace) -> dict[str, Any]:
    """Build a float32 ``vector`` HNSW index beside the halfvec one (same m, ef_construction),
    compare recall@10 at the same ef_search, build time and size; then drop it."""
    name = "scale_bench_vector_hnsw"
    t0 = time.perf_counter()
    async with store._connection() as conn:
        await conn.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
        await conn.execute(f"SET max_parallel_maintenance_workers = {args.parallel_workers}")
        await conn.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON embeddings USING hnsw"
            f" ((embedding::vector({DIM})) vector_cosine_ops)"
            f" WITH (m = {store._hnsw_m}, ef_construction = {store._hnsw_ef_construction})"
            f" WHERE model_id = '{MODEL}'")
    build_s = time.perf_counter() - t0
    out: dict[str, Any] = {"vector_hnsw_build_s": round(build_s, 1)}
    for kind in ("halfvec", "vector"):
        recalls, lat = [], []
        query = (
            f"SELECT c.id FROM embeddings e JOIN chunks c ON c.content_hash = e.content_hash"
            f" JOIN documents d ON d.id = c.document_id WHERE e.model_id = %s"
            f" AND d.index_name = %s AND d.state = 'indexed'"
            f" ORDER BY e.embedding::{kind}({DIM}) <=> %s::{kind}({DIM}) LIMIT 10")
        async with store._connection() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL hnsw.ef_search = {ef}")
            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            for q, truth in zip(queries, exact, strict=True):
                lit = "[" + ",".join(f"{x:.7g}" for x in q) + "]"
                t0 = time.perf_counter()
                rows = await (await conn.execute(query, [MODEL, INDEX, lit])).fetchall()
                lat.append((time.perf_counter() - t0) * 1000)
                recalls.append(len({r[0] for r in rows} & truth) / 10)
            plan = await (await conn.execute("EXPLAIN " + query, [MODEL, INDEX, lit])).fetchall()
        used = next((ln[0] for ln in plan if "Index Scan" in ln[0]), "no index scan")
        out[kind] = {"recall@10": round(float(np.mean(recalls)), 4),
                     "p50_ms": round(percentile(lat, 0.5), 2), "plan": used.strip()}
    sizes_rows = await _sql(
        store, "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname = ANY(%s)",
        [[name, "embeddings_hnsw_fake_384"]])
    out["index_mb"] = {n: round(s / 2**20) for n, s in sizes_rows}
    col = await _sql(store, "SELECT avg(pg_column_size(embedding)),"
                     " avg(pg_column_size(embedding::vector)) FROM embeddings TABLESAMPLE"
                     " SYSTEM (1)")
    out["bytes_per_row"] = {"halfvec": float(col[0][0]), "vector": float(col[0][1])}
    await _sql(store, f"DROP INDEX {name}")
    return out


async def hnsw_sweep(store: Any, queries: np.ndarray, exact: list[set[int]],
                     pairs: Sequence[tuple[int, int]], efs: Sequence[int],
                     args: argparse.Namespace) -> list[dict[str, Any]]:
    """Rebuild the model's HNSW index with each (m, ef_construction) and measure build time,
    index size and the recall/latency curve; the index is rebuilt with the store's own
    parameters at the end, so the data dir is left as it was."""
    from groundwire.stores.postgres.store import _hnsw_index_name

    index_name = _hnsw_index_name(MODEL)
    own = (store._hnsw_m, store._hnsw_ef_construction)
    out = []
    try:
        for m, efc in pairs:
            store._hnsw_m, store._hnsw_ef_construction = m, efc
            await store.drop_vector_index(MODEL)
            t0 = time.perf_counter()
            await store.build_vector_index(MODEL, maintenance_work_mem=args.maintenance_work_mem,
                                           parallel_workers=args.parallel_workers)
            build_s = round(time.perf_counter() - t0, 1)
            size = (await _sql(store, "SELECT pg_relation_size(%s::regclass)",
                               [index_name]))[0][0]
            curve = await recall_curve(store, queries, exact, efs)
            out.append({"m": m, "ef_construction": efc, "build_s": build_s,
                        "index_mb": round(size / 2**20), "curve": curve})
            print(json.dumps(out[-1]), flush=True)
    finally:
        store._hnsw_m, store._hnsw_ef_construction = own
        await store.drop_vector_index(MODEL)
        await store.build_vector_index(MODEL, maintenance_work_mem=args.maintenance_work_mem,
                                       parallel_workers=args.parallel_workers)
    return out


# ----------------------------------------------------------------------------- COPY
async def copy_compare(store: Any, n: int) -> dict[str, Any]:
    """rows/s of the write path: the store's COPY path vs the previous executemany
    statements, on fresh scratch indexes, with the model's HNSW index dropped (graph inserts
    cost the same on both paths and dwarf the write itself; see ``hnsw_insert``)."""
    from groundwire.stores.postgres.store import vector_literal

    encoder = WordVectors()
    paragraphs = _paragraphs()

    async def legacy(index: str, docs: list[DocumentWrite], emb: dict[str, Any]) -> None:
        async with store._connection() as conn, conn.transaction(), conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO embeddings (content_hash, model_id, dim, embedding)"
                " VALUES (%s, %s, %s, %s::halfvec) ON CONFLICT DO NOTHING",
                [(h, MODEL, len(v), vector_literal(v)) for h, v in emb.items()])
            for doc in docs:
                await cur.execute(
                    "INSERT INTO documents (index_name, source_id, uri, title, media_type,"
                    " content_hash, pipeline_fingerprint, state, indexed_at)"
                    " VALUES (%s, NULL, %s, %s, %s, %s, %s, 'indexed', now())"
                    " ON CONFLICT (index_name, source_id, uri) DO UPDATE SET state = 'indexed'"
                    " RETURNING id",
                    [index, doc.uri, doc.title, doc.media_type, doc.content_hash,
                     doc.pipeline_fingerprint])
                doc_id = (await cur.fetchone())[0]
                await cur.execute("DELETE FROM chunks WHERE document_id = %s", [doc_id])
                await cur.executemany(
                    "INSERT INTO chunks (document_id, position, text, header, content_hash,"
                    " heading_path, char_start, char_end, token_count)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(doc_id, c.position, c.text, c.header, c.content_hash,
                      list(c.heading_path), c.char_start, c.char_end, c.token_count)
                     for c in doc.chunks])
            await cur.execute("UPDATE indexes SET generation = generation + 1 WHERE name = %s",
                              [index])

    out: dict[str, Any] = {}
    batches = list(_documents(n, paragraphs))
    prepared = []
    for batch in batches:
        chunks = [c for d in batch for c in d.chunks]
        vecs = encoder.encode([c.search_text for c in chunks])
        prepared.append((batch, {c.content_hash: v for c, v in zip(chunks, vecs, strict=True)}))
    dropped = False
    for name, salt in (("hnsw_insert", "hi"), ("executemany", "em"), ("copy", "cp"),
                       ("executemany_2", "em2"), ("copy_2", "cp2")):
        if name != "hnsw_insert" and not dropped:
            dropped = await store.drop_vector_index(MODEL)
        index = f"copy-bench-{salt}-{time.time_ns()}"
        await store.ensure_index(index)
        # the run's own hash scope: no embedding is shared with an earlier run
        runs = [_rescoped(batch, emb, index) for batch, emb in prepared]
        t0 = time.perf_counter()
        for docs, emb in runs:
            if name.startswith(("copy", "hnsw")):
                await store.commit_documents(index, docs, emb, MODEL)
            else:
                await legacy(index, docs, emb)
        elapsed = time.perf_counter() - t0
        out[name] = {"chunks": n, "s": round(elapsed, 2), "rows_per_s": round(n / elapsed)}
        print(json.dumps({name: out[name]}), flush=True)
    await store.build_vector_index(MODEL)
    return out


def _rescoped(batch: list[DocumentWrite], emb: dict[str, Any], scope: str) -> tuple[
        list[DocumentWrite], dict[str, Any]]:
    docs, out = [], {}
    for d in batch:
        chunks = []
        for c in d.chunks:
            new = Chunk(position=c.position, text=c.text, header=c.header, heading_path=(),
                        char_start=c.char_start, char_end=c.char_end,
                        token_count=c.token_count, hash_scope=scope)
            out[new.content_hash] = emb[c.content_hash]
            chunks.append(new)
        docs.append(DocumentWrite(uri=d.uri, title=d.title, media_type=d.media_type,
                                  content_hash=d.content_hash,
                                  pipeline_fingerprint=d.pipeline_fingerprint, chunks=chunks))
    return docs, out


# ----------------------------------------------------------------------------- HTTP
def http_latency(args: argparse.Namespace, queries: list[str]) -> dict[str, Any]:
    port = free_port()
    exe = Path(sys.executable).parent / "groundwire"
    env = {**os.environ, "GROUNDWIRE_DATA_DIR": str(args.data_dir),
           "GROUNDWIRE_EMBEDDING__PROVIDER": "fake", "GROUNDWIRE_EMBEDDING__MODEL": MODEL,
           "GROUNDWIRE_RETRIEVAL__HNSW_EF_SEARCH": str(args.ef_search),
           # no API key: a loopback dev-mode request acts as the default tenant's admin, so
           # the permission pre-filter (BM25 access mask, SQL readers) is on the path
           "GROUNDWIRE_SECURITY__DEV_MODE": "true"}
    log_path = args.data_dir / "serve.log"
    base = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {}
    import httpx

    with log_path.open("w") as log:
        t_start = time.perf_counter()
        server = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port",
                                   str(port)], env=env, stdout=log, stderr=log)
        try:
            wait_ready(base, server, timeout_s=1800)
            results["server_ready_s"] = round(time.perf_counter() - t_start, 1)
            t0 = time.perf_counter()
            with httpx.Client(base_url=base, timeout=600) as client:
                r = client.post("/v1/search", json={"query": queries[0], "index": INDEX})
                r.raise_for_status()
                results["first_search_s"] = round(time.perf_counter() - t0, 1)
                for q in queries[1:21]:
                    client.post("/v1/search", json={"query": q, "index": INDEX})
            for clients in (1, 10):
                lat: list[float] = []
                stages: dict[str, list[float]] = {}
                errors = 0

                def one(i: int, clients: int = clients, lat: list[float] = lat,
                        stages: dict[str, list[float]] = stages) -> None:
                    nonlocal errors
                    with httpx.Client(base_url=base, timeout=60) as client:
                        for j in range(i, args.requests, clients):
                            t0 = time.perf_counter()
                            r = client.post("/v1/search", json={
                                "query": queries[21 + j % (len(queries) - 21)],
                                "index": INDEX})
                            lat.append((time.perf_counter() - t0) * 1000)
                            if r.status_code != 200:
                                errors += 1
                                continue
                            for k, v in (r.json().get("timings_ms") or {}).items():
                                stages.setdefault(k, []).append(float(v))

                started = time.perf_counter()
                with ThreadPoolExecutor(clients) as pool:
                    list(pool.map(one, range(clients)))
                elapsed = time.perf_counter() - started
                results[f"clients_{clients}"] = {
                    "requests": len(lat), "errors": errors,
                    "p50_ms": round(percentile(lat, 0.5), 1),
                    "p95_ms": round(percentile(lat, 0.95), 1),
                    "rps": round(len(lat) / elapsed, 1),
                    "stage_p50_ms": {k: round(percentile(v, 0.5), 1) for k, v in stages.items()},
                    "stage_p95_ms": {k: round(percentile(v, 0.95), 1)
                                     for k, v in stages.items()},
                }
                print(json.dumps({f"clients_{clients}": results[f"clients_{clients}"]}),
                      flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
    for line in log_path.read_text(errors="replace").splitlines():
        if "keyword_index_built" in line:
            with contextlib.suppress(ValueError):
                results["bm25_build_ms"] = json.loads(line).get("ms")
    return results


def query_encode_ms(queries: list[str]) -> dict[str, float] | None:
    """p50/p95 of the real model's encode_query (1 thread, as the server does)."""
    try:
        from groundwire.bootstrap import build_embedder
        from groundwire.settings import Settings

        embedder = build_embedder(Settings())
    except Exception as exc:  # the model package may be missing on a bare box
        print(f"real-model encode skipped: {exc}", flush=True)
        return None
    for q in queries[:10]:
        embedder.encode_query(q)
    lat = []
    for q in queries[:100]:
        t0 = time.perf_counter()
        embedder.encode_query(q)
        lat.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(percentile(lat, 0.5), 1), "p95_ms": round(percentile(lat, 0.95), 1)}


# ----------------------------------------------------------------------------- main
async def run(args: argparse.Namespace) -> None:
    from groundwire.stores.postgres.embedded import EmbeddedPostgres
    from groundwire.stores.postgres.store import PostgresStore

    args.data_dir.mkdir(parents=True, exist_ok=True)
    store = PostgresStore(EmbeddedPostgres(args.data_dir), pool_max=4, ef_search=args.ef_search)
    await store.open()
    result: dict[str, Any] = {"chunks_requested": args.chunks, "embedder": MODEL,
                              "m": store._hnsw_m, "ef_construction": store._hnsw_ef_construction}
    try:
        if args.copy_compare:
            result["copy_compare"] = await copy_compare(store, args.copy_compare)
        have = (await store.stats(INDEX)).chunks if INDEX in await store.list_indexes() else 0
        if have < args.chunks:
            if have:
                raise SystemExit(f"{args.data_dir} holds a partial build ({have} chunks):"
                                 " delete it and rerun")
            result["build"] = await build(store, args.chunks, args)
            print(json.dumps(result["build"]), flush=True)
        else:
            result["build"] = "reused"
        result["chunks"] = (await store.stats(INDEX)).chunks
        result["size"] = await sizes(store)
        texts = _queries(args.queries + 21)
        efs = [int(x) for x in args.curve.split(",") if x]
        result["curve"] = []
        if efs or args.compare_vector or args.sweep:
            qvecs = WordVectors().encode(texts[21:])
            t0 = time.perf_counter()
            exact = await exact_top10(store, qvecs)
            result["exact_numpy_s"] = round(time.perf_counter() - t0, 1)
            result["curve"] = await recall_curve(store, qvecs, exact, efs) if efs else []
        if args.sweep:
            pairs = [tuple(int(x) for x in p.split(":")) for p in args.sweep.split(",")]
            result["hnsw_sweep"] = await hnsw_sweep(store, qvecs, exact, pairs, efs, args)
        if args.compare_vector:
            result["halfvec_vs_vector"] = await compare_vector(store, qvecs, exact,
                                                               args.ef_search, args)
            print(json.dumps(result["halfvec_vs_vector"]), flush=True)
    finally:
        await store.close()
    if not args.no_http:
        result["http"] = http_latency(args, texts)
    result["query_encode_ms_real_model"] = query_encode_ms(texts)
    rows = [{"ef_search": c["ef_search"], "recall@10": c["recall@10"],
             "vector p50 ms": c["p50_ms"], "vector p95 ms": c["p95_ms"]}
            for c in result["curve"]]
    sweep_rows = [{"m:ef_construction": f"{sw['m']}:{sw['ef_construction']}",
                   "build s": sw["build_s"], "index MB": sw["index_mb"],
                   "ef_search": c["ef_search"], "recall@10": c["recall@10"],
                   "vector p50 ms": c["p50_ms"], "vector p95 ms": c["p95_ms"]}
                  for sw in result.get("hnsw_sweep", []) for c in sw["curve"]]
    report("scale", result, sweep_rows or rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300, help="HTTP requests per level")
    parser.add_argument("--curve", default="20,40,64,100,200",
                        help="hnsw.ef_search values for the recall/latency curve")
    parser.add_argument("--ef-search", type=int, default=100, help="ef_search of the server")
    parser.add_argument("--maintenance-work-mem", default="4GB")
    parser.add_argument("--parallel-workers", type=int, default=1)
    parser.add_argument("--compare-vector", action="store_true")
    parser.add_argument("--copy-compare", type=int, default=0, metavar="N",
                        help="also measure the write path with N chunks (COPY vs executemany)")
    parser.add_argument("--sweep", default="", metavar="M:EFC,...",
                        help="rebuild the HNSW index with each m:ef_construction and measure "
                             "build time, size and the --curve (then restore the default)")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    args.data_dir = (args.data_dir or REPO / ".bench-data" / f"scale-{args.chunks}").resolve()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
