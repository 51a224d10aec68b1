"""Content gaps: what users ask that the corpus cannot answer.

Questions that were unanswered (abstained), scored low (best dense similarity below
``monitoring.low_score``) or were voted 'not helpful' are clustered by their query embeddings
with agglomerative clustering (cosine distance, average linkage, a distance threshold instead
of a cluster count). Measured on template questions (tests/support/query_streams.py): a
focused absent topic forms exactly one pure cluster in 10/10 seeds for thresholds 0.65-0.85;
the default is 0.75 (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class GapCluster:
    index: str
    size: int
    examples: list[str]
    reasons: dict[str, int]
    mean_top_score: float | None
    centroid: list[float] = field(repr=False)
    record_ids: list[str] = field(repr=False)
    closest_documents: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "size": self.size, "examples": self.examples,
            "reasons": self.reasons, "mean_top_score": self.mean_top_score,
            "closest_documents": self.closest_documents,
            "record_ids": self.record_ids[:20],
        }


def cluster_labels(embeddings: np.ndarray, distance: float) -> np.ndarray:
    """Cluster label per row (cosine distance, average linkage, merge while below
    ``distance``). One row is its own cluster."""
    x = np.asarray(embeddings, dtype=np.float64)
    if len(x) < 2:
        return np.zeros(len(x), dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance
    )
    labels: np.ndarray = model.fit_predict(x)
    return labels


def find_gaps(
    candidates: Sequence[dict[str, Any]], *, distance: float, min_size: int,
    low_score: float,
) -> list[GapCluster]:
    """Clusters of ``candidates`` (rows of ``Store.gap_candidates``) per index, biggest first;
    clusters smaller than ``min_size`` are left out."""
    by_index: dict[str, list[dict[str, Any]]] = {}
    for row in candidates:
        by_index.setdefault(row["index_name"], []).append(row)
    clusters: list[GapCluster] = []
    for index, rows in by_index.items():
        vectors = np.asarray([r["query_embedding"] for r in rows], dtype=np.float64)
        labels = cluster_labels(vectors, distance)
        for label in np.unique(labels):
            members = [rows[i] for i in np.flatnonzero(labels == label)]
            if len(members) < min_size:
                continue
            member_vectors = vectors[labels == label]
            unit = member_vectors / np.maximum(
                np.linalg.norm(member_vectors, axis=1, keepdims=True), 1e-12)
            centroid = unit.mean(axis=0)
            # examples: the questions nearest the centroid, distinct texts
            order = np.argsort(-(unit @ centroid))
            examples: list[str] = []
            for i in order:
                q = members[int(i)]["question"]
                if q not in examples:
                    examples.append(q)
                if len(examples) == EXAMPLES:
                    break
            scores = [m["top_score"] for m in members if m["top_score"] is not None]
            clusters.append(GapCluster(
                index=index, size=len(members), examples=examples,
                reasons={
                    "abstained": sum(bool(m["abstained"]) for m in members),
                    "low_score": sum(1 for m in members if m["top_score"] is not None
                                     and m["top_score"] < low_score),
                    "negative_feedback": sum(bool(m["negative"]) for m in members),
                },
                mean_top_score=round(float(np.mean(scores)), 4) if scores else None,
                centroid=[float(v) for v in centroid],
                record_ids=[str(m["id"]) for m in members],
            ))
    clusters.sort(key=lambda c: (-c.size, c.index))
    return clusters
