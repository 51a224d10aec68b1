"""Exact duplicates and near-duplicate clusters.

Exact: documents whose normalised text (``groundwire.minhash.normalise``) equals an earlier
document's; ``exact_duplicate_documents`` counts those later copies. Near: MinHash (128
permutations) of word 3-shingles of the normalised text (``groundwire.minhash``, the signature
ingest marks near-duplicates with), indexed in a MinHash LSH at
``assess.near_duplicate_threshold``; each document is queried before it is inserted, a
candidate is kept when the estimated Jaccard similarity reaches the threshold, and clusters
are the connected components (union-find). Never all-pairs. Exact copies are clustered by the
exact check, not inserted again.
Score: ``100 * (1 - (exact copies + extra near-duplicate members) / documents)``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from groundwire.assess.dimensions.base import Context
from groundwire.assess.report import Section, chart, finding, location, ratio_score
from groundwire.assess.source import AssessedDocument
from groundwire.assess.textutil import normalise, text_digest
from groundwire.minhash import MIN_WORDS, NUM_PERM, minhash
from groundwire.minhash import similarity as signature_similarity

__all__ = ["MIN_WORDS", "NUM_PERM", "Duplicates", "add_ingest_marks"]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent.setdefault(min(ra, rb), min(ra, rb))
            self.parent[max(ra, rb)] = min(ra, rb)


class Duplicates:
    name = "duplicates"

    def __init__(self, threshold: float) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.first_by_digest: dict[bytes, int] = {}
        self.exact_groups: dict[int, list[int]] = {}
        self.signatures: dict[int, np.ndarray] = {}
        self.uf = _UnionFind()
        self.pair_similarity: dict[tuple[int, int], float] = {}

    def observe(self, doc: AssessedDocument, i: int) -> None:
        if not doc.text or doc.error_code is not None:
            return
        norm = normalise(doc.text)
        digest = text_digest(norm)
        first = self.first_by_digest.get(digest)
        if first is not None:
            self.exact_groups.setdefault(first, []).append(i)
            return
        self.first_by_digest[digest] = i
        mh = minhash(norm, NUM_PERM)  # the ingest marking's MinHash (groundwire.minhash)
        if mh is None:
            return
        signature = mh.hashvalues.astype(np.uint32)
        for key in self.lsh.query(mh):
            other = self.signatures[key]
            similarity = signature_similarity(other, signature)
            if similarity >= self.threshold:
                self.uf.union(key, i)
                self.pair_similarity.setdefault((key, i), similarity)
        self.lsh.insert(i, mh)
        self.signatures[i] = signature

    def clusters(self) -> list[list[int]]:
        groups: dict[int, list[int]] = {}
        for x in list(self.uf.parent):
            groups.setdefault(self.uf.find(x), []).append(x)
        return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])

    def finish(self, ctx: Context) -> Section:
        n = ctx.documents
        uris = ctx.uris
        clusters = self.clusters()
        ctx.shared["near_clusters"] = clusters
        ctx.shared["pair_similarity"] = self.pair_similarity
        copies = sum(len(v) for v in self.exact_groups.values())
        near_extra = sum(len(c) - 1 for c in clusters)
        findings = []
        for first, later in sorted(self.exact_groups.items(), key=lambda p: -len(p[1])):
            findings.append(
                finding(
                    "warning",
                    "duplicate.exact",
                    f"{len(later) + 1} documents have identical text ({uris[first]})",
                    [location(uris[j]) for j in [first, *later][:10]],
                    {"documents": len(later) + 1},
                )
            )
        edges: dict[int, tuple[int, int, float]] = {}
        for (a, b), sim in self.pair_similarity.items():
            edges.setdefault(self.uf.find(a), (a, b, sim))
        for cluster in sorted(clusters, key=len, reverse=True):
            rep, other, sim = edges[self.uf.find(cluster[0])]
            findings.append(
                finding(
                    "warning",
                    "duplicate.near",
                    f"{len(cluster)} near-duplicate documents, e.g. {uris[rep]} ~ {uris[other]}",
                    [location(uris[j]) for j in cluster[:10]],
                    {
                        "documents": len(cluster),
                        "representative_pair": [uris[rep], uris[other]],
                        "similarity": round(sim, 3),
                    },
                )
            )
        sizes = Counter(len(c) for c in clusters)
        advice = []
        if copies:
            advice.append(f"Remove {copies} exact duplicate document(s); keep one copy each.")
        if clusters:
            advice.append(
                f"Review {len(clusters)} near-duplicate cluster(s): keep the current "
                "version of each and archive the others."
            )
        return Section(
            score=ratio_score(copies + near_extra, n),
            summary=(
                f"{copies} exact duplicate document(s), {len(clusters)} near-duplicate "
                f"cluster(s) covering {sum(map(len, clusters))} documents"
            ),
            advice=advice,
            findings=findings,
            charts=[
                chart(
                    "Near-duplicate clusters by size",
                    [str(k) for k in sorted(sizes)],
                    [sizes[k] for k in sorted(sizes)],
                    "clusters",
                )
            ],
            figures={
                "exact_duplicate_documents": copies,
                "near_duplicate_clusters": len(clusters),
                "near_duplicate_documents": sum(map(len, clusters)),
            },
        )


async def add_ingest_marks(section: Section, store: Any, index: str, limit: int = 10) -> None:
    """Report, on an index's duplicates section, the documents ingest marked as near-duplicates
    of a newer one (``documents.duplicate_of``, left out of retrieval): the figure
    ``marked_at_ingest`` and one ``duplicate.marked`` finding with up to ``limit`` pairs."""
    count = await store.count_duplicates(index)
    section.figures["marked_at_ingest"] = count
    if not count:
        return
    pairs = await store.duplicate_pairs(index, limit=limit)
    section.findings.append(finding(
        "info", "duplicate.marked",
        f"{count} document(s) marked at ingest as near-duplicates of a newer one and left out "
        "of search (ingest.near_duplicates)",
        [location(p.duplicate_uri) for p in pairs],
        {"documents": count,
         "pairs": [{"duplicate": p.duplicate_uri, "of": p.kept_uri} for p in pairs]},
    ))
