"""Fitness for retrieval: boilerplate share, chunk-length distribution, chunks longer than
the embedder's window.

Boilerplate: lines of 20+ characters that occur in at least ``max(3, 1%)`` of the documents
(headers, footers, navigation, legal notices); the share is the characters in such lines over
all characters. Line counts are kept per line hash (lossy: when more than ``MAX_LINES``
distinct lines are tracked, lines seen once are dropped). Chunk lengths are token counts of
each chunk's search text (header + body) by the embedder's tokenizer when one is given, else
a whitespace estimate (words * 1.3).
Score: ``100 - 100 * boilerplate_share - 100 * over_window_share - 25 * tiny_chunk_share``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from groundwire.assess.dimensions.base import Context
from groundwire.assess.report import Section, chart, finding, location
from groundwire.assess.source import AssessedDocument

MIN_LINE_CHARS = 20
MAX_LINES = 2_000_000
TINY_CHUNK_TOKENS = 16
_EDGES = (16, 32, 64, 128, 192, 256, 384, 512)


class RetrievalFitness:
    name = "retrieval_fitness"

    def __init__(self, count_tokens: Callable[[str], int], window_tokens: int) -> None:
        self.count = count_tokens
        self.window = window_tokens
        self.lines: dict[bytes, list[int]] = {}  # hash -> [documents, chars, first doc]
        self.total_chars = 0
        self.chunks = 0
        self.over = 0
        self.tiny = 0
        self.hist = [0] * (len(_EDGES) + 1)
        self.over_examples: list[dict] = []
        self.token_sum = 0

    def observe(self, doc: AssessedDocument, i: int) -> None:
        if not doc.text:
            return
        self.total_chars += len(doc.text)
        for line in set(doc.text.split("\n")):
            line = line.strip()
            if len(line) < MIN_LINE_CHARS:
                continue
            key = hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest()
            entry = self.lines.get(key)
            if entry is None:
                self.lines[key] = [1, len(line), i]
            else:
                entry[0] += 1
        if len(self.lines) > MAX_LINES:
            self.lines = {k: v for k, v in self.lines.items() if v[0] > 1}
        for chunk in doc.chunks:
            tokens = self.count(chunk.search_text)
            self.chunks += 1
            self.token_sum += tokens
            self.hist[sum(tokens >= e for e in _EDGES)] += 1
            if tokens < TINY_CHUNK_TOKENS:
                self.tiny += 1
            if tokens > self.window:
                self.over += 1
                if len(self.over_examples) < 200:
                    self.over_examples.append(
                        finding(
                            "warning",
                            "retrieval.chunk_over_window",
                            f"{doc.uri}: a chunk of {tokens} tokens exceeds the embedder's window "
                            f"({self.window}); its end is not embedded",
                            [location(doc.uri, chunk.char_start, chunk.char_end, chunk.text[:120])],
                            {"tokens": tokens},
                        )
                    )

    def finish(self, ctx: Context) -> Section:
        n_docs = max(1, ctx.documents)
        min_docs = max(3, int(0.01 * n_docs))
        repeated = [(k, v) for k, v in self.lines.items() if v[0] >= min_docs]
        boiler_chars = sum(v[0] * v[1] for _, v in repeated)
        share = boiler_chars / self.total_chars if self.total_chars else 0.0
        over_share = self.over / self.chunks if self.chunks else 0.0
        tiny_share = self.tiny / self.chunks if self.chunks else 0.0
        findings = list(self.over_examples)
        repeated.sort(key=lambda p: -p[1][0] * p[1][1])
        for _, (docs, chars, first) in repeated[:20]:
            findings.append(
                finding(
                    "info" if share < 0.1 else "warning",
                    "retrieval.boilerplate",
                    f"a {chars}-character line repeats in {docs} documents",
                    [location(ctx.uris[first])],
                    {"documents": docs, "chars": chars},
                )
            )
        advice = []
        if share >= 0.05:
            advice.append(
                f"Strip boilerplate ({share:.0%} of the text: repeated headers, "
                "footers, navigation) before ingesting; it dilutes every passage."
            )
        if over_share > 0:
            advice.append(
                f"{over_share:.1%} of chunks exceed the embedder's window: lower "
                "chunking.max_tokens or use a model with a longer window."
            )
        if tiny_share >= 0.2:
            advice.append(
                f"{tiny_share:.0%} of chunks are under {TINY_CHUNK_TOKENS} tokens: "
                "merge short documents or sections."
            )
        score = 100 - 100 * share - 100 * over_share - 25 * tiny_share
        labels = (
            [f"<{_EDGES[0]}"]
            + [f"{a}-{b - 1}" for a, b in zip(_EDGES, _EDGES[1:], strict=False)]
            + [f"≥{_EDGES[-1]}"]
        )
        mean = self.token_sum / self.chunks if self.chunks else 0.0
        return Section(
            score=round(max(0.0, score)),
            summary=(
                f"{self.chunks} chunks (mean {mean:.0f} tokens); boilerplate {share:.1%}; "
                f"{over_share:.1%} over the {self.window}-token window"
            ),
            advice=advice,
            findings=findings,
            charts=[chart("Chunk length distribution", labels, self.hist, "chunks")],
            figures={
                "chunks": self.chunks,
                "mean_chunk_tokens": round(mean, 1),
                "boilerplate_share": round(share, 4),
                "over_window_share": round(over_share, 4),
                "tiny_chunk_share": round(tiny_share, 4),
                "window_tokens": self.window,
            },
            weight=1.0,
        )
