"""Question coverage: the share of questions whose best passage strongly supports an answer.

Questions come from the caller (a question file: one per line, or BEIR ``queries.jsonl``) or,
when none are given, are derived from headings and titles (a deterministic reservoir sample).
At most ``assess.max_questions`` are scored. Passages: for a path, a temporary BM25 index
(bm25s, the same tokenizer as the keyword index) over every chunk's search text; for an index
with an embedder, the real hybrid retrieval (hits handed in as ``hits``).
Support of the top passages: with an embedder, the extractive answerer's support (cosine
similarity blended with query-term coverage; strong = it would not abstain at
``answer.min_support``); without one, the best sentence's share of the question's content
terms (stemmed, stop words removed; strong at ``LEXICAL_STRONG``).
Score: ``100 * strong / questions`` (100 with a note when there are no questions).
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from groundwire.assess.dimensions.base import Context
from groundwire.assess.report import Section, chart, finding, location
from groundwire.assess.source import AssessedDocument
from groundwire.assess.spool import TextSpool
from groundwire.domain import Hit
from groundwire.ingest.chunking import split_sentences
from groundwire.text import WORD2

LEXICAL_STRONG = 0.6
TOP_PASSAGES = 5
_BATCH = 512


class _BatchThreads:
    """The embedder with ``encode_queries`` run as passages, on the ingest-time threads:
    scoring support for many questions is batch work, not a latency-bound request (the
    Embedder contract encodes a text the same way either way; only the thread count differs)."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def encode_queries(self, texts: Sequence[str]) -> Any:
        return self._embedder.encode_passages(texts)


def _content_terms(terms: set[str]) -> int:
    return sum(1 for t in terms if not t.isdigit())


class QuestionCoverage:
    name = "question_coverage"

    def __init__(
        self,
        questions: Sequence[str] | None,
        max_questions: int,
        *,
        embedder: Any = None,
        min_support: float = 0.35,
        passages: int = 5,
        build_index: bool = True,
    ) -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN
        from bm25s.tokenization import Tokenizer

        self.given = [q.strip() for q in questions or [] if q.strip()][:max_questions]
        self.max_questions = max_questions
        self.derived: list[str] = []
        self.seen_candidates = 0
        self.rng = random.Random(0)
        self.embedder = embedder
        self.min_support = min_support
        self.passages = passages
        self.build_index = build_index
        self.tokenizer = Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")
        self.stem = Stemmer.Stemmer("english").stemWord
        self.stopwords = frozenset(STOPWORDS_EN) | {
            "what",
            "which",
            "who",
            "how",
            "does",
            "did",
            "do",
            "when",
            "where",
            "why",
        }
        self.texts = TextSpool()
        self.chunk_doc = array("i")
        self.tokens: list[np.ndarray] = []
        self._pending: list[str] = []

    # ---------------------------------------------------------------- streaming
    def observe(self, doc: AssessedDocument, i: int) -> None:
        if not self.given:
            candidates = [doc.title] if doc.title else []
            if doc.doc is not None:
                candidates += [b.text for b in doc.doc.blocks if b.is_heading]
            for text in candidates:
                if len(text.split()) <= 25 and _content_terms(self._terms(text)) >= 2:
                    self._sample(text)
        if not self.build_index:
            return
        for chunk in doc.chunks:
            self.texts.append(chunk.text)
            self.chunk_doc.append(i)
            self._pending.append(chunk.search_text)
            if len(self._pending) >= _BATCH:
                self._flush()

    def _sample(self, text: str) -> None:
        self.seen_candidates += 1
        if len(self.derived) < self.max_questions:
            self.derived.append(text)
        else:
            j = self.rng.randrange(self.seen_candidates)
            if j < self.max_questions:
                self.derived[j] = text

    def _flush(self) -> None:
        if self._pending:
            ids = self.tokenizer.tokenize(
                self._pending, update_vocab=True, return_as="ids", show_progress=False
            )
            self.tokens.extend(np.asarray(x, dtype=np.int32) for x in ids)
            self._pending = []

    def questions(self) -> list[str]:
        if self.given:
            return list(self.given)
        return list(dict.fromkeys(self.derived))

    # ---------------------------------------------------------------- scoring
    def _terms(self, text: str) -> set[str]:
        return {self.stem(w) for w in WORD2.findall(text.lower()) if w not in self.stopwords}

    def lexical_support(self, question: str, passages: Sequence[str]) -> float:
        """The best sentence's share of the question's content terms (0..1)."""
        q = self._terms(question)
        if not q:
            return 0.0
        best = 0.0
        for text in passages:
            for s, e in split_sentences(text):
                best = max(best, len(q & self._terms(text[s:e])) / len(q))
        return best

    def _local_hits(self, ctx: Context, questions: list[str]) -> dict[str, list[Hit]]:
        import bm25s

        self._flush()
        if not self.tokens:
            return {q: [] for q in questions}
        retriever = bm25s.BM25()
        retriever.index([t.tolist() for t in self.tokens], show_progress=False)
        vocab = self.tokenizer.get_vocab_dict()
        out: dict[str, list[Hit]] = {}
        for q in questions:
            words = self.tokenizer.tokenize(
                [q], update_vocab=False, return_as="string", show_progress=False
            )[0]
            ids = [vocab[w] for w in words if w and w in vocab]
            if not ids:
                out[q] = []
                continue
            k = min(TOP_PASSAGES, len(self.tokens))
            docs, scores = retriever.retrieve([ids], k=k, show_progress=False)
            hits = []
            for d, s in zip(docs[0], scores[0], strict=True):
                if s <= 0:
                    continue
                text = self.texts.get(int(d))
                uri = ctx.uris[self.chunk_doc[int(d)]]
                hits.append(
                    Hit(
                        chunk_id=int(d),
                        document_id=self.chunk_doc[int(d)],
                        uri=uri,
                        title="",
                        text=text,
                        heading_path=(),
                        char_start=0,
                        char_end=len(text),
                        score=float(s),
                    )
                )
            out[q] = hits
        return out

    def finish(self, ctx: Context, hits: Mapping[str, list[Hit]] | None = None) -> Section:
        questions = self.questions()
        derived = not self.given
        if not questions:
            self.texts.close()
            return Section(
                score=100,
                summary="no questions (no question file and no headings/titles)",
                advice=["Pass --questions FILE with real user questions to measure coverage."],
                figures={"questions": 0, "strong": 0, "derived": derived},
                weight=0.0,
            )
        if hits is None:
            hits = self._local_hits(ctx, questions)
        answerer = None
        if self.embedder is not None:
            from groundwire.answering.extractive import ExtractiveAnswerer

            answerer = ExtractiveAnswerer(
                self.embedder, min_support=self.min_support, passages=self.passages
            )
        scored: list[tuple[str, float, bool, Hit | None]] = []
        for q in questions:
            top = list(hits.get(q, []))[:TOP_PASSAGES]
            if not top:
                scored.append((q, 0.0, False, None))
            elif answerer is not None:
                answer = answerer.answer(q, top)
                scored.append((q, float(answer.confidence), not answer.abstained, top[0]))
            else:
                support = self.lexical_support(q, [h.text for h in top])
                scored.append((q, support, support >= LEXICAL_STRONG, top[0]))
        self.texts.close()
        strong = sum(1 for s in scored if s[2])
        weak = sorted((s for s in scored if not s[2]), key=lambda s: s[1])
        findings = [
            finding(
                "warning",
                "coverage.weak_question",
                f"weak support ({support:.2f}) for: {q}",
                [location(best.uri, None, None, best.text[:160])] if best else [],
                {
                    "question": q,
                    "support": round(support, 4),
                    "best_uri": best.uri if best else None,
                },
            )
            for q, support, _, best in weak
        ]
        bins = [0] * 5
        for _, support, _, _ in scored:
            bins[min(4, int(support * 5))] += 1
        share = strong / len(scored)
        advice = []
        if share < 0.8:
            advice.append(
                f"{len(weak)} of {len(scored)} questions lack a well-supported "
                "passage: add or rewrite documents that answer them."
            )
        source = "derived from headings/titles" if derived else "from the question file"
        return Section(
            score=round(100 * share),
            summary=f"{strong} of {len(scored)} questions ({source}) have strong support",
            advice=advice,
            findings=findings,
            charts=[
                chart(
                    "Questions by best support",
                    ["0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1"],
                    bins,
                    "questions",
                )
            ],
            figures={
                "questions": len(scored),
                "strong": strong,
                "strong_share": round(share, 4),
                "derived": derived,
                "support_method": "extractive" if answerer else "lexical",
            },
            weight=1.0 if not derived else 0.5,
        )
