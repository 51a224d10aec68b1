"""Pseudo-questions with known answers, generated from an index's own chunks (no labels, no LLM).

Used by label-free self-tuning (``quality/autotune.py``), domain adaptation
(``quality/adaptation.py``) and evaluation-set generation.

Contract of ``generate_pseudo_questions(chunks, n, seed)``:

* deterministic: the same chunks (in any order) and seed give the same list, in the same order;
* at most ``n`` questions, each with the chunk it was written from (``chunk_id``, its
  ``document_id`` and ``uri``): that chunk's document is the known answer;
* documents are spread: every document gets a question before any gets a second one;
* queries are unique (case-insensitive) and never empty;
* ``kind`` says how the query was made:
  - ``"title"``: the document title (only titles of at least two words that no other document
    shares, so the answer is unambiguous);
  - ``"heading"``: the chunk's innermost heading, under the same conditions;
  - ``"sentence"``: one of the chunk's sentences (at least six words, four of them content
    words), its words without punctuation; with ``keep_fraction`` < 1 a random subset of about
    that share of its content words (order kept). A question copied from its passage favours
    keyword retrieval far more than real questions do: consumers that tune on these remove the
    source sentence from the corpus first (the inverse cloze task,
    ``autotune.collect_lists_cloze``); measured on SciFact and SQuAD, word subsets without that
    removal still pull the tuning toward BM25 (docs/benchmarks.md).
  ``"llm"`` is reserved for questions written by a language model (not produced here).
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from groundwire.stores.base import StoredChunk
from groundwire.text import WORD_WITH_APOSTROPHE as _WORD

# A word: letters/digits with inner apostrophes or hyphens.
_FILE_LIKE = re.compile(r"\.[A-Za-z0-9]{1,5}$|[/\\]")
TITLE_SHARE = 0.15
HEADING_SHARE = 0.15
KEEP_FRACTION = 1.0
DROP_RAREST = 0
MIN_SENTENCE_WORDS = 6
MAX_QUERY_WORDS = 12  # word-subset queries only


@dataclass(frozen=True)
class PseudoQuestion:
    """A query whose answer is known: the document of the chunk it was generated from."""

    query: str
    chunk_id: int
    document_id: int
    uri: str
    kind: str  # "title" | "heading" | "sentence" | "llm"


def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    extra = {"which", "who", "whom", "what", "when", "where", "how", "from", "has", "have",
             "had", "were", "been", "its", "also", "than", "can", "may", "these", "those",
             "there", "their", "our", "we", "he", "she", "his", "her", "them", "all", "any",
             "both", "each", "more", "most", "other", "some", "such", "only", "own", "same",
             "so", "very", "do", "does", "did", "would", "could", "should", "between", "after",
             "before", "during", "about", "over", "under", "while", "i", "you", "one"}
    return frozenset(STOPWORDS_EN) | frozenset(extra)


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _usable_label(label: str) -> bool:
    label = label.strip()
    return len(_words(label)) >= 2 and not _FILE_LIKE.search(label) and len(label) <= 200


def sentence_query(
    sentence: str, rng: random.Random, stop: frozenset[str],
    df: Counter[str] | None = None, *, keep_fraction: float = KEEP_FRACTION,
    drop_rarest: int = 0,
) -> str | None:
    """Content words of ``sentence``, about ``keep_fraction`` of them (order kept), or None
    when the sentence is too short to make a question. With ``df`` (document frequency of
    lower-cased words), the ``drop_rarest`` rarest content words are never kept."""
    words = _words(sentence)
    if len(words) < MIN_SENTENCE_WORDS:
        return None
    content = [w for w in words if w.lower() not in stop and len(w) > 1]
    if len(content) < 4:
        return None
    if keep_fraction >= 1.0:
        return " ".join(words)  # the sentence itself, punctuation removed
    keep = max(3, min(MAX_QUERY_WORDS, round(len(content) * keep_fraction)))
    candidates = list(range(len(content)))
    if df is not None and drop_rarest:
        rarest = sorted(candidates, key=lambda i: (df[content[i].lower()], i))[:drop_rarest]
        candidates = [i for i in candidates if i not in rarest]
    if len(candidates) < 3:
        return None
    picked = sorted(rng.sample(candidates, min(keep, len(candidates))))
    return " ".join(content[i] for i in picked)


def generate_pseudo_questions(
    chunks: Sequence[StoredChunk], n: int, seed: int = 0, *,
    keep_fraction: float = KEEP_FRACTION, drop_rarest: int = DROP_RAREST,
) -> list[PseudoQuestion]:
    """Up to ``n`` pseudo-questions over ``chunks`` (see the module contract)."""
    from groundwire.ingest.chunking import split_sentences

    if n <= 0 or not chunks:
        return []
    rng = random.Random(seed)
    stop = _stopwords()
    ordered = sorted(chunks, key=lambda c: c.chunk_id)
    by_document: dict[int, list[StoredChunk]] = defaultdict(list)
    for chunk in ordered:
        by_document[chunk.document_id].append(chunk)
    title_count = Counter(
        next(iter(cs)).title.strip().lower() for cs in by_document.values()
    )
    heading_count = Counter(
        c.heading_path[-1].strip().lower() for c in ordered if c.heading_path
    )
    documents = sorted(by_document)
    df: Counter[str] = Counter()
    if drop_rarest:
        for chunk in ordered:
            df.update({w.lower() for w in _words(chunk.text)})
    questions: list[PseudoQuestion] = []
    seen: set[str] = set()
    titled: set[int] = set()
    # Rounds over the documents in a seeded order; each round gives each document one try.
    rounds = 3 * -(-n // len(documents))  # bounded: a round that adds nothing also stops
    for _ in range(rounds):
        progress = False
        order = documents[:]
        rng.shuffle(order)
        for document_id in order:
            if len(questions) >= n:
                return questions
            chunk = rng.choice(by_document[document_id])
            draw = rng.random()
            query: str | None = None
            kind = "sentence"
            title = chunk.title.strip()
            heading = chunk.heading_path[-1].strip() if chunk.heading_path else ""
            if (draw < TITLE_SHARE and document_id not in titled and _usable_label(title)
                    and title_count[title.lower()] == 1):
                query, kind = title, "title"
                titled.add(document_id)
            elif (draw < TITLE_SHARE + HEADING_SHARE and _usable_label(heading)
                  and heading.lower() != title.lower() and heading_count[heading.lower()] == 1):
                query, kind = heading, "heading"
            if query is None:
                spans = split_sentences(chunk.text)
                rng.shuffle(spans)
                for start, end in spans:
                    query = sentence_query(chunk.text[start:end], rng, stop, df,
                                           keep_fraction=keep_fraction,
                                           drop_rarest=drop_rarest)
                    if query is not None:
                        break
            if query is None or query.lower() in seen:
                continue
            seen.add(query.lower())
            progress = True
            questions.append(PseudoQuestion(query, chunk.chunk_id, chunk.document_id,
                                            chunk.uri, kind))
        if not progress:
            break
    return questions
