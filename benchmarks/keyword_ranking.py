"""PostgreSQL full-text ranking (ts_rank, ts_rank_cd) against bm25s on a BEIR dataset.

Why it exists: the store keeps text in PostgreSQL; if its full-text ranking were as good as BM25
we would not need the in-process bm25s index. Both rank whole documents (title + text); queries
are OR-ed lexemes (plainto_tsquery's AND returns nothing for most long queries).

    .venv/bin/python benchmarks/keyword_ranking.py [--dataset ../shared/data/scifact]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import DATA, report

from groundwire.quality.datasets import _jsonl, load_dataset
from groundwire.quality.metrics import ndcg_at, recall_at


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=DATA / "scifact")
    args = parser.parse_args()
    ds = load_dataset(args.dataset)
    corpus = [(str(d.get("id", d.get("_id"))), f"{d.get('title', '')}\n{d['text']}")
              for d in _jsonl(ds.corpus)]
    queries = [(q, ds.queries[q]) for q in ds.queries if q in ds.qrels]
    rows, result = [], {}

    # bm25s
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    t0 = time.perf_counter()
    tokens = bm25s.tokenize([t for _, t in corpus], stopwords="en", stemmer=stemmer,
                            show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    index_s = time.perf_counter() - t0
    q_tokens = bm25s.tokenize([q for _, q in queries], stopwords="en", stemmer=stemmer,
                              show_progress=False)
    t0 = time.perf_counter()
    docs, _ = retriever.retrieve(q_tokens, k=100, show_progress=False)
    query_ms = (time.perf_counter() - t0) * 1000 / len(queries)
    ranked = [[corpus[i][0] for i in row] for row in docs]
    rows.append(_row("bm25s (k1=1.5, b=0.75, stemmed)", ranked, queries, ds.qrels, index_s,
                     query_ms))

    # PostgreSQL full text
    import psycopg

    from groundwire.stores.postgres.embedded import start_embedded_server

    with tempfile.TemporaryDirectory(prefix="gw-") as tmp:
        server = start_embedded_server(Path(tmp) / "pg")
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            t0 = time.perf_counter()
            conn.execute("CREATE TABLE docs (id text, body text, tsv tsvector)")
            with conn.cursor().copy("COPY docs (id, body) FROM STDIN") as copy:
                for row in corpus:
                    copy.write_row(row)
            conn.execute("UPDATE docs SET tsv = to_tsvector('english', body)")
            conn.execute("CREATE INDEX ON docs USING gin (tsv)")
            pg_index_s = time.perf_counter() - t0
            for fn in ("ts_rank", "ts_rank_cd"):
                ranked = []
                t0 = time.perf_counter()
                for _, text in queries:
                    sql = (
                        f"WITH q AS (SELECT replace(plainto_tsquery('english', %s)::text,"
                        f" '&', '|')::tsquery AS q) SELECT id FROM docs, q WHERE tsv @@ q.q"
                        f" ORDER BY {fn}(tsv, q.q) DESC LIMIT 100"
                    )
                    ranked.append([r[0] for r in conn.execute(sql, [text]).fetchall()])
                ms = (time.perf_counter() - t0) * 1000 / len(queries)
                rows.append(_row(f"PostgreSQL {fn} (english, OR query)", ranked, queries,
                                 ds.qrels, pg_index_s, ms))
        server.cleanup()
    result["dataset"] = ds.root.name
    result["queries"] = len(queries)
    result["results"] = rows
    report("keyword_ranking", result, rows)


def _row(name, ranked, queries, qrels, index_s, query_ms):  # type: ignore[no-untyped-def]
    n = len(queries)
    pairs = list(zip(ranked, queries, strict=True))
    return {
        "ranker": name,
        "ndcg@10": round(sum(ndcg_at(r, qrels[q], 10) for r, (q, _) in pairs) / n, 4),
        "recall@100": round(sum(recall_at(r, qrels[q], 100) for r, (q, _) in pairs) / n, 4),
        "index_s": round(index_s, 2),
        "ms_per_query": round(query_ms, 2),
    }


if __name__ == "__main__":
    main()
