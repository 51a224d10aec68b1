"""Drift and content-gap quality of ``groundwire.monitoring`` with the real embedding model.

The small test corpus (``tests/live_server.CORPUS``, a fictional product) is ingested into an
index; every distinct template question of ``tests/support/query_streams.py`` is searched once
for real, giving its query embedding and top score (best dense cosine similarity). Then:

* **Drift**: for ``--seeds`` seeds and each window size, streams of ``2 x window`` queries are
  drawn: *stable* (a 3:1 product/tomato-gardening mixture in both halves), *shifted* (product
  questions, then gardening), *partial* (second half 20 % gardening). Each stream is judged by
  the monitors' drift tests with the default thresholds; false alarms are stable streams that
  fire. ``psi_only`` counts what PSI >= 0.25 alone would have fired; ``*_worst`` is the
  stable streams' maximum and the shifted streams' minimum of each statistic.
* **Gaps**: for each ``gap_distance``, over ``--seeds`` seeds, 12 tomato questions are mixed
  with 6 astronomy questions and 8 unrelated one-offs; a seed passes when the tomato
  questions form exactly one cluster with nothing else in it.

    GROUNDWIRE_DATA_DIR=.bench-data/monitoring .venv/bin/python \
        benchmarks/monitoring_quality.py [--seeds 100]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from typing import Any

import numpy as np
from _common import REPO, report

sys.path.insert(0, str(REPO / "tests"))

from live_server import write_corpus  # noqa: E402
from support.query_streams import pool  # noqa: E402

from groundwire.bootstrap import build_app  # noqa: E402
from groundwire.domain import SearchRequest  # noqa: E402
from groundwire.monitoring.drift import embedding_drift, psi, score_drift  # noqa: E402
from groundwire.monitoring.gaps import cluster_labels  # noqa: E402
from groundwire.settings import MonitoringSettings, load_settings  # noqa: E402

INDEX = "monitoring-bench"
ONE_OFFS = ["Who painted the Mona Lisa?", "What is the capital of Australia?",
            "How do I bake sourdough bread?", "What is the boiling point of liquid nitrogen?",
            "Who won the 1998 football world cup?", "How do I change a flat bicycle tyre?",
            "What is the best recipe for pancakes?", "How many players are on a rugby team?"]


async def observe(questions: dict[str, list[str]]) -> dict[str, list[tuple[float, np.ndarray]]]:
    settings = load_settings()
    out: dict[str, list[tuple[float, np.ndarray]]] = {}
    async with build_app(settings) as gw:
        corpus = write_corpus(REPO / ".bench-data" / "monitoring-corpus")
        await gw.ingest_path(corpus, index=INDEX)
        for topic, texts in questions.items():
            out[topic] = []
            for text in texts:
                result = await gw.retriever.retrieve(SearchRequest(text, index=INDEX, top_k=5))
                assert result.query_vector is not None
                top = max(h.vector_score for h in result.hits if h.vector_score is not None)
                out[topic].append((float(top), np.asarray(result.query_vector, dtype=np.float64)))
    return out


def judge(first: list[Any], second: list[Any], cfg: MonitoringSettings, seed: int) -> dict:
    emb = embedding_drift(np.asarray([v for _, v in first]), np.asarray([v for _, v in second]),
                          permutations=cfg.drift_permutations, min_z=cfg.drift_min_z,
                          min_mmd=cfg.drift_min_mmd, seed=seed)
    base, cur = np.asarray([s for s, _ in first]), np.asarray([s for s, _ in second])
    sc = score_drift(base, cur, min_psi=cfg.drift_min_psi, max_ks_p=cfg.drift_max_ks_p)
    return {"mmd": emb.fired, "score": sc.fired, "psi_only": psi(base, cur) >= cfg.drift_min_psi,
            "mmd2": emb.statistic, "z": emb.details["z"], "psi": sc.statistic,
            "ks_p": sc.details["ks_p_value"]}


def worst(values: list[float], scenario: str) -> float:
    """The stable streams' maximum (false-alarm side), the shifted streams' minimum."""
    return max(values) if scenario == "stable" else min(values)


def drift_rows(obs: dict[str, list[Any]], seeds: int, windows: list[int]) -> list[dict]:
    cfg = MonitoringSettings()
    product, garden = obs["quillmate"], obs["gardening"]
    mixed = product * 3 + garden
    rows = []
    for n in windows:
        for scenario in ("stable", "shifted", "partial"):
            results = []
            for seed in range(seeds):
                rng = random.Random(f"{scenario}:{n}:{seed}")
                if scenario == "stable":
                    first = [rng.choice(mixed) for _ in range(n)]
                    second = [rng.choice(mixed) for _ in range(n)]
                elif scenario == "shifted":
                    first = [rng.choice(product) for _ in range(n)]
                    second = [rng.choice(garden) for _ in range(n)]
                else:
                    first = [rng.choice(product) for _ in range(n)]
                    second = [rng.choice(garden if rng.random() < 0.2 else product)
                              for _ in range(n)]
                results.append(judge(first, second, cfg, seed))
            rows.append({
                "window": n, "stream": scenario, "seeds": seeds,
                "embedding_fired": sum(r["mmd"] for r in results),
                "top_score_fired": sum(r["score"] for r in results),
                "psi_only_fired": sum(r["psi_only"] for r in results),
                # worst case: closest to the threshold from the wrong side
                "mmd2_worst": round(worst([r["mmd2"] for r in results], scenario), 4),
                "z_worst": round(worst([r["z"] for r in results], scenario), 2),
                "psi_worst": round(worst([r["psi"] for r in results], scenario), 3),
            })
    return rows


def gap_rows(obs: dict[str, list[Any]], seeds: int) -> list[dict]:
    garden, astro, misc = obs["gardening"], obs["astronomy"], obs["one_offs"]
    rows = []
    for distance in (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9):
        passed, clusters = 0, []
        for seed in range(seeds):
            rng = random.Random(seed)
            picks = rng.sample(garden, 12) + rng.sample(astro, 6) + misc
            labels = cluster_labels(np.asarray([v for _, v in picks]), distance)
            tomato = set(labels[:12])
            passed += len(tomato) == 1 and list(labels).count(labels[0]) == 12
            clusters.append(len(set(labels)))
        rows.append({"gap_distance": distance, "seeds": seeds,
                     "tomato_one_pure_cluster": passed,
                     "mean_clusters_of_26_questions": round(float(np.mean(clusters)), 2)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--windows", type=int, nargs="+", default=[50, 100, 200])
    args = parser.parse_args()
    started = time.perf_counter()
    questions = {"quillmate": pool("quillmate", 200), "gardening": pool("gardening", 150),
                 "astronomy": pool("astronomy", 150), "one_offs": ONE_OFFS}
    obs = asyncio.run(observe(questions))
    drift = drift_rows(obs, args.seeds, args.windows)
    gaps = gap_rows(obs, min(args.seeds, 50))
    cfg = MonitoringSettings()
    result = {
        "distinct_questions": {k: len(v) for k, v in questions.items()},
        "mean_top_score": {k: round(float(np.mean([s for s, _ in v])), 3)
                           for k, v in obs.items()},
        "thresholds": {"drift_min_z": cfg.drift_min_z, "drift_min_mmd": cfg.drift_min_mmd,
                       "drift_min_psi": cfg.drift_min_psi, "drift_max_ks_p": cfg.drift_max_ks_p,
                       "drift_permutations": cfg.drift_permutations},
        "drift": drift, "gaps": gaps, "seconds": round(time.perf_counter() - started, 1),
    }
    report("monitoring_quality", result, drift)
    print()
    report("monitoring_gaps", {}, gaps)


if __name__ == "__main__":
    main()
