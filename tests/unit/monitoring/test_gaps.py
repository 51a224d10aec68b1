"""Content-gap clustering on synthetic embeddings."""

from __future__ import annotations

import numpy as np

from groundwire.monitoring.gaps import cluster_labels, find_gaps

DIM = 24


def _rows(rng: np.random.Generator, centre: np.ndarray, n: int, name: str, index: str = "kb"):
    return [{"id": f"{name}-{i}", "index_name": index, "question": f"{name} question {i}",
             "top_score": 0.1, "abstained": i % 2 == 0, "negative": False,
             "query_embedding": list(centre + 0.15 * rng.standard_normal(DIM))}
            for i in range(n)]


def test_each_topic_is_one_cluster_and_singletons_are_left_out() -> None:
    rng = np.random.default_rng(1)
    a, b, c = (rng.standard_normal(DIM) for _ in range(3))
    rows = _rows(rng, a, 8, "alpha") + _rows(rng, b, 5, "beta") + _rows(rng, c, 1, "lonely")
    clusters = find_gaps(rows, distance=0.5, min_size=2, low_score=0.35)
    assert [c.size for c in clusters] == [8, 5]
    assert all(q.startswith("alpha") for q in clusters[0].examples)
    assert len(clusters[0].examples) == 5
    assert clusters[0].reasons == {"abstained": 4, "low_score": 8, "negative_feedback": 0}
    assert sorted(clusters[1].record_ids) == [f"beta-{i}" for i in range(5)]
    # the centroid points at its members
    centroid = np.asarray(clusters[0].centroid)
    assert float(centroid @ a / np.linalg.norm(a) / np.linalg.norm(centroid)) > 0.9


def test_indexes_are_clustered_separately() -> None:
    rng = np.random.default_rng(2)
    a = rng.standard_normal(DIM)
    rows = _rows(rng, a, 3, "one", index="x") + _rows(rng, a, 3, "two", index="y")
    clusters = find_gaps(rows, distance=0.5, min_size=2, low_score=0.35)
    assert sorted((c.index, c.size) for c in clusters) == [("x", 3), ("y", 3)]


def test_threshold_controls_merging() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(DIM), rng.standard_normal(DIM)
    x = np.vstack([a + 0.1 * rng.standard_normal((4, DIM)),
                   b + 0.1 * rng.standard_normal((4, DIM))])
    assert len(set(cluster_labels(x, 0.3))) == 2
    assert len(set(cluster_labels(x, 1.99))) == 1
    assert list(cluster_labels(x[:1], 0.3)) == [0]
