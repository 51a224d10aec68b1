"""Citation verification: does each sentence of an answer follow from the passages it cites?

An answer cites the passages that were in its prompt inline as ``[n]`` (1-based); the forms
``[1]``, ``[1][2]``, ``[1, 2]`` and ``[1,2]`` are understood, and a marker group placed after the
sentence's full stop (``… in 1912. [2]``) belongs to the sentence before it.

Support of a sentence by one passage (0..1) blends

* the best cosine similarity between the sentence (markers removed) and any sentence, or pair of
  adjacent sentences, of the passage (``Embedder.encode_queries``), and
* the share of the sentence's content terms (stemmed, stop words removed) found in the passage,

as ``semantic_weight * cosine + (1 - semantic_weight) * coverage``. Two rules then catch the
classic hallucinations that a similarity score forgives:

* **numbers** — every number in the sentence (digits, or the words "two" to "twenty"; ``1,200``
  equals ``1200``) must occur in at least one cited passage;
* **names** — every capitalised word that does not open the sentence must occur in at least one
  cited passage (an LLM swapping "Denver" for "Carolina").

A sentence failing a rule is unsupported and its reported support is halved. A claim sentence
passes when its support is at least ``threshold``. Without an embedder the cosine term is left
out (support = coverage), which is what the unit tests and the lexical-only design use.

A claim sentence with **no** valid citation is unsupported unless some passage of the context
supports it at ``uncited_threshold`` (default 0.9, close to a verbatim quote) and passes both
rules; the answer layer asks for citations, so this only rescues a verbatim quote.

Sentences that make no claim — refusals ("I don't know…"), lead-ins ending in a colon, and
uncited sentences with fewer than three content terms and no number — have
``needs_citation=False``; they are never unsupported and do not count for ``groundedness``.

The default threshold is chosen on one split of SQuAD v1.1 dev and reported on another
(``benchmarks/citation_checker.py``, docs/benchmarks.md "Citation verification").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np

from groundwire.embedding.base import Embedder, Vectors
from groundwire.errors import InvalidRequest
from groundwire.ingest.chunking import split_sentences
from groundwire.text import WORD2

Policy = Literal["flag", "drop", "off"]

#: Text that ``apply_policy(..., "flag")`` appends after an unsupported sentence.
UNSUPPORTED_FLAG = "[unsupported]"

DEFAULT_THRESHOLD = 0.53  # chosen on the SQuAD tune split (benchmarks/citation_checker.py)
DEFAULT_UNCITED_THRESHOLD = 0.9
DEFAULT_SEMANTIC_WEIGHT = 0.5
RULE_PENALTY = 0.5  # support is multiplied by this when a number or name rule fails

_MARKER = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")
_LEADING_MARKERS = re.compile(r"(?:\s*\[\s*\d+(?:\s*,\s*\d+)*\s*\])+")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’\-]*")
_NAME_TOKEN = re.compile(r"[\w'’\-]+")
_POSSESSIVE = re.compile(r"['’]s?$")
_CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")
# "one" is left out: it is far more often a pronoun or determiner than a count.
_NUMBER_WORDS = {
    w: str(i) for i, w in enumerate(
        ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen", "twenty"], start=2)
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_NO_CLAIM = re.compile(
    r"\b(i (do not|don't|cannot|can't|could not|couldn't) (know|find|answer|tell|say)"
    r"|not (enough|sufficient) (information|context|support)"
    r"|(context|passages?|documents?|sources?) (do|does) not (say|mention|contain|state)"
    r"|no (information|mention) (about|of|on)"
    r"|i('m| am) not sure)\b",
    re.IGNORECASE,
)
MIN_CLAIM_TERMS = 3


@dataclass(frozen=True, slots=True)
class SentenceCheck:
    """One sentence of the answer; ``text == answer_text[start:end]`` (markers included)."""

    text: str
    start: int
    end: int
    cited: tuple[int, ...]
    support: float
    supported: bool
    needs_citation: bool


@dataclass(frozen=True, slots=True)
class Verification:
    sentences: tuple[SentenceCheck, ...]
    invalid_citations: tuple[int, ...]
    per_citation: Mapping[int, float]
    groundedness: float
    unsupported: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SupportScore:
    """How well a set of passages supports one claim (markers already removed).

    ``cosine`` and ``coverage`` are the best over the passages; ``per_passage`` is the blended
    score of each passage before the rules; ``missing_numbers`` / ``missing_names`` are the
    sentence's numbers / names found in none of the passages; ``support`` is the final score.
    """

    cosine: float
    coverage: float
    per_passage: tuple[float, ...]
    missing_numbers: tuple[str, ...]
    missing_names: tuple[str, ...]
    support: float

    @property
    def rules_ok(self) -> bool:
        return not self.missing_numbers and not self.missing_names


class CitationVerifier:
    """Checks ``[n]`` citations of an answer against the passages that were in its prompt.

    ``embedder`` may be ``None`` (lexical support only). ``threshold``: least support of a
    supported cited sentence; ``uncited_threshold``: least support of a supported sentence
    without citations (checked against every passage); ``semantic_weight``: share of the
    cosine term; ``check_numbers`` / ``check_names`` switch the two rules.
    """

    def __init__(
        self,
        embedder: Embedder | None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        uncited_threshold: float = DEFAULT_UNCITED_THRESHOLD,
        semantic_weight: float = DEFAULT_SEMANTIC_WEIGHT,
        check_numbers: bool = True,
        check_names: bool = True,
    ) -> None:
        for name, value in (("threshold", threshold), ("uncited_threshold", uncited_threshold),
                            ("semantic_weight", semantic_weight)):
            if not 0.0 <= value <= 1.0:
                raise InvalidRequest(f"{name} must be within 0..1, got {value}")
        self._embedder = embedder
        self.threshold = threshold
        self.uncited_threshold = uncited_threshold
        self._semantic_weight = semantic_weight if embedder is not None else 0.0
        self._check_numbers = check_numbers
        self._check_names = check_names
        self._stem: Callable[[str], str] | None = None
        self._stopwords: frozenset[str] = frozenset()

    # -- public --------------------------------------------------------------------------

    def verify(self, answer_text: str, passages: Sequence[str]) -> Verification:
        """Check every sentence of ``answer_text``; marker ``[n]`` means ``passages[n - 1]``."""
        invalid: set[int] = set()
        parsed = []
        for start, end in answer_sentences(answer_text):
            text = answer_text[start:end]
            numbers = cited_numbers(text)
            invalid.update(n for n in numbers if not 1 <= n <= len(passages))
            cited = tuple(dict.fromkeys(n for n in numbers if 1 <= n <= len(passages)))
            claim = strip_markers(text)
            parsed.append((start, end, text, cited, claim, self._needs_citation(claim, cited)))
        # One encode call for every claim and every passage unit this answer needs.
        needed = {n for *_, cited, _, claim_ in parsed if claim_ for n in cited}
        if any(claim_ and not cited for *_, cited, _, claim_ in parsed):
            needed = set(range(1, len(passages) + 1))
        vectors = self._encode_all([p[4] for p in parsed if p[5]],
                                   [passages[n - 1] for n in sorted(needed)])
        checks: list[SentenceCheck] = []
        per_citation: dict[int, float] = {}
        for start, end, text, cited, claim, needs in parsed:
            if not needs:
                checks.append(SentenceCheck(text, start, end, cited, 0.0, False, False))
                continue
            score: SupportScore | None
            if cited:
                score = self.score(claim, [passages[n - 1] for n in cited], vectors)
                for n, value in zip(cited, score.per_passage, strict=True):
                    value = value if score.rules_ok else value * RULE_PENALTY
                    per_citation[n] = max(per_citation.get(n, 0.0), round(value, 4))
                supported = score.rules_ok and score.support >= self.threshold
            else:
                score = self.score(claim, passages, vectors) if passages else None
                supported = bool(score and score.rules_ok
                                 and score.support >= self.uncited_threshold)
            support = round(score.support, 4) if score else 0.0
            checks.append(SentenceCheck(text, start, end, cited, support, supported, True))
        claims = [c for c in checks if c.needs_citation]
        unsupported = tuple(i for i, c in enumerate(checks) if c.needs_citation and not c.supported)
        groundedness = (1.0 if not claims
                        else sum(c.supported for c in claims) / len(claims))
        return Verification(
            sentences=tuple(checks),
            invalid_citations=tuple(sorted(invalid)),
            per_citation=MappingProxyType(dict(sorted(per_citation.items()))),
            groundedness=groundedness,
            unsupported=unsupported,
        )

    def score(
        self,
        claim: str,
        passages: Sequence[str],
        vectors: Mapping[str, Vectors] | None = None,
    ) -> SupportScore:
        """Support of ``claim`` (plain text, no markers) by ``passages`` taken together;
        ``vectors`` may hold embeddings already computed for the claim and passage units."""
        if not passages:
            return SupportScore(0.0, 0.0, (), (), (), 0.0)
        terms = self._terms(claim)
        coverages = []
        for passage in passages:
            p_terms = self._terms(passage)
            coverages.append(len(terms & p_terms) / len(terms) if terms else 1.0)
        cosines = self._cosines(claim, passages, vectors or {})
        w = self._semantic_weight
        per_passage = tuple(
            float(np.clip(w * cos + (1 - w) * cov, 0.0, 1.0))
            for cos, cov in zip(cosines, coverages, strict=True)
        )
        missing_numbers = _missing_numbers(claim, passages) if self._check_numbers else ()
        missing_names = (_missing_names(claim, passages, self._stemmer())
                         if self._check_names else ())
        support = max(per_passage)
        if missing_numbers or missing_names:
            support *= RULE_PENALTY
        return SupportScore(max(cosines), max(coverages), per_passage, missing_numbers,
                            missing_names, support)

    # -- internals -----------------------------------------------------------------------

    def _encode_all(self, claims: Sequence[str], passages: Sequence[str]) -> dict[str, Vectors]:
        if self._embedder is None or not claims:
            return {}
        texts = list(dict.fromkeys([*claims, *(u for p in passages for u in _passage_units(p))]))
        return dict(zip(texts, self._embedder.encode_queries(texts), strict=True))

    def _cosines(
        self, claim: str, passages: Sequence[str], known: Mapping[str, Vectors]
    ) -> list[float]:
        if self._embedder is None:
            return [0.0] * len(passages)
        units: list[list[str]] = [_passage_units(p) for p in passages]
        missing = list(dict.fromkeys(t for t in [claim, *(u for g in units for u in g)]
                                     if t not in known))
        vectors = dict(known)
        if missing:
            vectors.update(zip(missing, self._embedder.encode_queries(missing), strict=True))
        claim_vec = vectors[claim]
        return [
            float(np.clip(max(float(vectors[u] @ claim_vec) for u in group), 0.0, 1.0))
            if group else 0.0
            for group in units
        ]

    def _needs_citation(self, claim: str, cited: tuple[int, ...]) -> bool:
        if not claim or _NO_CLAIM.search(claim) or claim.rstrip().endswith(":"):
            return False
        if cited:
            return bool(WORD2.search(claim))
        return len(self._terms(claim)) >= MIN_CLAIM_TERMS or bool(_numbers(claim))

    def _stemmer(self) -> Callable[[str], str]:
        if self._stem is None:
            self._stem, self._stopwords = _stemmer(), _stopword_set()
        return self._stem

    def _terms(self, text: str) -> set[str]:
        stem = self._stemmer()
        return {stem(w) for w in WORD2.findall(text.lower()) if w not in self._stopwords}


# -- text helpers (public: the answer layer and the benchmark use them) ----------------------


def answer_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an answer; a marker group opening a sentence joins the one before."""
    spans: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        lead = _LEADING_MARKERS.match(text, start, end)
        if lead and spans:
            prev_start, _ = spans.pop()
            spans.append((prev_start, lead.end()))
            start = lead.end()
            while start < end and text[start].isspace():
                start += 1
        if start < end:
            spans.append((start, end))
    return spans


def cited_numbers(text: str) -> list[int]:
    """Every number in the ``[n]`` marker groups of ``text``, in order (duplicates kept)."""
    return [int(n) for m in _MARKER.finditer(text) for n in m.group(1).split(",")]


def strip_markers(text: str) -> str:
    """``text`` without citation markers, whitespace collapsed, no space before punctuation."""
    plain = _MARKER.sub(" ", text)
    plain = re.sub(r"\s+([.,;:!?])", r"\1", plain)
    return " ".join(plain.split())


def apply_policy(answer_text: str, verification: Verification, policy: Policy) -> str:
    """Rewrite an answer according to its verification.

    * ``off``: the text unchanged.
    * ``drop``: unsupported claim sentences are removed, and invalid numbers are removed from
      the remaining marker groups (``[1, 9]`` -> ``[1]``, ``[9]`` -> nothing). May return ``""``
      when nothing is supported; the caller decides whether to abstain.
    * ``flag``: the text is kept; :data:`UNSUPPORTED_FLAG` (``[unsupported]``) is inserted after
      each unsupported sentence (after its citation markers).

    ``verification`` must come from ``verify(answer_text, ...)`` on this exact text.
    """
    if policy == "off":
        return answer_text
    if policy not in ("flag", "drop"):
        raise InvalidRequest(f"unknown verification policy {policy!r}")
    unsupported = set(verification.unsupported)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) on answer_text
    for i, check in enumerate(verification.sentences):
        if policy == "flag":
            if i in unsupported:
                edits.append((check.end, check.end, f" {UNSUPPORTED_FLAG}"))
            continue
        if i in unsupported:
            edits.append((check.start, check.end, ""))
            continue
        invalid = set(verification.invalid_citations)
        for m in _MARKER.finditer(answer_text, check.start, check.end):
            numbers = [n for n in m.group(1).split(",") if int(n) not in invalid]
            if len(numbers) == len(m.group(1).split(",")):
                continue
            kept = ", ".join(n.strip() for n in numbers)
            edits.append((m.start(), m.end(), f"[{kept}]" if kept else ""))
    out = answer_text
    for start, end, replacement in sorted(edits, reverse=True):
        out = out[:start] + replacement + out[end:]
    if policy == "drop":
        out = re.sub(r"[ \t]+([.,;:!?])", r"\1", out)
        out = re.sub(r"[ \t]{2,}", " ", out)
        out = re.sub(r"\n{3,}", "\n\n", out).strip()
    return out


def _passage_units(passage: str) -> list[str]:
    """Sentences of a passage and each pair of adjacent sentences (a claim may merge two)."""
    sentences = [passage[s:e].strip() for s, e in split_sentences(passage)]
    sentences = [s for s in sentences if s]
    pairs = [f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False)]
    return sentences + pairs


def _numbers(text: str) -> set[str]:
    found = {_norm_number(n) for n in _NUMBER.findall(text)}
    found.update(_NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(text))
    return {n for n in found if n}


def _norm_number(raw: str) -> str:
    raw = raw.rstrip(",").replace(",", "")
    if "." in raw:
        raw = raw.rstrip("0").rstrip(".")
    return raw.lstrip("0") or "0"


def _missing_numbers(claim: str, passages: Sequence[str]) -> tuple[str, ...]:
    wanted = _numbers(claim)
    if not wanted:
        return ()
    have: set[str] = set()
    for passage in passages:
        have |= _numbers(passage)
    return tuple(sorted(wanted - have))


def _missing_names(
    claim: str, passages: Sequence[str], stem: Callable[[str], str]
) -> tuple[str, ...]:
    """Capitalised words of ``claim`` (not sentence-initial) that no passage contains, compared
    by stem without diacritics; an all-capitals word also matches the initials of a run of
    capitalised words ("UK" ~ "United Kingdom")."""
    names = []
    for sentence_start, sentence_end in split_sentences(claim):
        body = claim[sentence_start:sentence_end]
        first = re.match(r"\W*\w+", body)
        skip = first.end() if first else 0
        names += [m.group(0) for m in _CAPITALISED.finditer(body, skip)]
    if not names:
        return ()
    have: set[str] = set()
    for passage in passages:
        for token in _NAME_TOKEN.findall(passage):
            have.add(_name_key(token, stem))
            if "-" in token:  # "pro-Soviet" contains the name "Soviet"
                have.update(_name_key(part, stem) for part in token.split("-") if part)
        for run in _CAPITALISED_RUN.finditer(passage):
            have.add("".join(w[0] for w in run.group(0).split()).lower())
    missing = [n for n in names if _name_key(n, stem) not in have and n.lower() not in have]
    return tuple(dict.fromkeys(missing))


def _name_key(word: str, stem: Callable[[str], str]) -> str:
    plain = unicodedata.normalize("NFKD", _POSSESSIVE.sub("", word.lower()))
    return stem("".join(ch for ch in plain if not unicodedata.combining(ch)))


def _stemmer() -> Callable[[str], str]:
    import Stemmer

    stem: Callable[[str], str] = Stemmer.Stemmer("english").stemWord
    return stem


def _stopword_set() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    # Question words carry no claim (an answer restating its question keeps them).
    return frozenset(STOPWORDS_EN) | {"what", "which", "who", "whom", "when", "where", "why",
                                       "how", "does", "did", "do"}
