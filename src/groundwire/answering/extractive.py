"""Extractive answers without an LLM: the best-supported sentences of the top passages, each
with an inline ``[n]`` citation to its passage.

A sentence's support blends (a) cosine similarity of its embedding to the question's and (b)
the share of the question's content terms (stemmed, stop words removed) it contains, with a
small prior for higher-ranked passages. The answer abstains when the best support is below
``min_support`` — the question is probably not answered by the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from groundwire.domain import Answer, Citation, Hit
from groundwire.embedding.base import Embedder
from groundwire.ingest.chunking import split_sentences
from groundwire.text import WORD2

ABSTAIN_MESSAGE = (
    "I could not find enough support in the indexed documents to answer this. "
    "Try rephrasing, or check that the relevant documents are ingested."
)
SEMANTIC_WEIGHT = 0.6
MIN_SENTENCE_CHARS = 20
MIN_NEW_TERMS = 2  # a sentence must add at least this many content terms beyond the question


@dataclass(frozen=True, slots=True)
class _Candidate:
    hit_index: int
    start: int
    text: str
    support: float


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        *,
        max_sentences: int = 3,
        min_support: float = 0.35,
        passages: int = 5,
    ) -> None:
        self._embedder = embedder
        self._max_sentences = max_sentences
        self._min_support = min_support
        self._passages = passages
        self._stem = _stemmer()
        self._stopwords = _stopwords()

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        hits = list(hits[: self._passages])
        candidates = self._score(question, hits)
        if not candidates or candidates[0].support < self._min_support:
            confidence = candidates[0].support if candidates else 0.0
            return Answer(question, ABSTAIN_MESSAGE, True, (), tuple(hits), round(confidence, 4))
        best = candidates[0].support
        chosen = [c for c in candidates if c.support >= max(self._min_support, 0.8 * best)]
        chosen = chosen[: self._max_sentences]
        # Read in document order: by passage rank, then position in the passage.
        chosen.sort(key=lambda c: (c.hit_index, c.start))
        numbers: dict[int, int] = {}
        parts, citations = [], []
        for cand in chosen:
            if cand.hit_index not in numbers:
                numbers[cand.hit_index] = len(numbers) + 1
                citations.append(Citation(numbers[cand.hit_index], hits[cand.hit_index], cand.text))
            parts.append(f"{cand.text} [{numbers[cand.hit_index]}]")
        return Answer(
            question, " ".join(parts), False, tuple(citations), tuple(hits), round(best, 4)
        )

    def _score(self, question: str, hits: Sequence[Hit]) -> list[_Candidate]:
        raw: list[tuple[int, int, str]] = []
        for i, hit in enumerate(hits):
            for start, end in split_sentences(hit.text):
                sentence = hit.text[start:end].strip()
                if len(sentence) >= MIN_SENTENCE_CHARS or len(split_sentences(hit.text)) == 1:
                    raw.append((i, start, sentence))
        if not raw:
            return []
        q_terms = self._terms(question)
        q_plain = _plain(question)
        seen: set[str] = set()
        unique = []
        for i, start, sentence in raw:
            plain = _plain(sentence)
            # Overlapping chunks repeat sentences; a sentence quoting the question answers nothing.
            if plain in seen or (len(q_plain) > 12 and q_plain in plain):
                continue
            seen.add(plain)
            unique.append((i, start, sentence))
        raw = unique
        if not raw:
            return []
        vectors = self._embedder.encode_queries([question, *(s for _, _, s in raw)])
        similarities = vectors[1:] @ vectors[0]
        scored = []
        for (i, start, sentence), sim in zip(raw, similarities, strict=True):
            terms = self._terms(sentence)
            if q_terms and len(terms - q_terms) < MIN_NEW_TERMS:
                continue  # restates the question (or a command that echoes it): no answer
            coverage = len(q_terms & terms) / len(q_terms) if q_terms else 0.0
            prior = (1.0 - 0.03 * i) * _prose_factor(sentence)
            support = (SEMANTIC_WEIGHT * float(np.clip(sim, 0, 1))
                       + (1 - SEMANTIC_WEIGHT) * coverage) * prior
            scored.append(_Candidate(i, start, sentence, support))
        scored.sort(key=lambda c: -c.support)
        return scored

    def _terms(self, text: str) -> set[str]:
        return {
            self._stem(w) for w in WORD2.findall(text.lower()) if w not in self._stopwords
        }


def _plain(text: str) -> str:
    return " ".join(WORD2.findall(text.lower()))


def _prose_factor(sentence: str) -> float:
    """1.0 for prose, down to 0.7 for symbol-heavy text (code, tables, paths); lead-ins that
    end with a colon and shell/comment lines are penalised too."""
    letters = sum(ch.isalpha() or ch.isspace() for ch in sentence)
    share = letters / max(len(sentence), 1)
    factor = float(np.clip(0.7 + (share - 0.6) * 1.5, 0.7, 1.0))
    stripped = sentence.strip()
    if stripped.endswith(":"):
        factor *= 0.8
    if stripped[:1] in {"#", "$", ">", "|", "`"}:
        factor *= 0.7
    return factor


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english").stemWord


def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | {"what", "which", "who", "whom", "when", "where", "why",
                                       "how", "does", "did", "do"}

