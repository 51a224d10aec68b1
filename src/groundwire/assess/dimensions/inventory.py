"""Inventory: formats, sizes, languages, PDF page counts, documents per source folder/file.

Score: the share of documents in a format Groundwire can parse (``parse.unsupported`` lowers
it); mixed languages are reported as information only.
"""

from __future__ import annotations

from collections import Counter

from groundwire.assess.dimensions.base import Context
from groundwire.assess.report import Section, chart, finding, location, ratio_score
from groundwire.assess.source import AssessedDocument
from groundwire.text import LETTER_WORD

# Frequent function words per language: a light detector that needs no model or download.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "of",
            "to",
            "in",
            "is",
            "that",
            "for",
            "it",
            "with",
            "as",
            "was",
            "on",
            "are",
            "be",
            "by",
            "this",
            "from",
            "or",
            "an",
            "which",
            "have",
            "not",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "und",
            "das",
            "ist",
            "nicht",
            "ein",
            "eine",
            "zu",
            "den",
            "von",
            "mit",
            "sich",
            "des",
            "auf",
            "für",
            "im",
            "dem",
            "wird",
            "auch",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "et",
            "des",
            "est",
            "un",
            "une",
            "du",
            "que",
            "dans",
            "pour",
            "qui",
            "sur",
            "pas",
            "au",
            "avec",
            "ce",
            "sont",
            "par",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "de",
            "que",
            "y",
            "en",
            "un",
            "una",
            "es",
            "por",
            "con",
            "para",
            "del",
            "se",
            "no",
            "lo",
            "como",
            "más",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "di",
            "che",
            "la",
            "e",
            "un",
            "una",
            "per",
            "non",
            "sono",
            "del",
            "della",
            "con",
            "gli",
            "le",
            "si",
            "nel",
            "è",
            "anche",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "van",
            "is",
            "dat",
            "op",
            "te",
            "in",
            "niet",
            "zijn",
            "met",
            "voor",
            "ook",
            "er",
            "maar",
            "wordt",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "a",
            "os",
            "as",
            "de",
            "que",
            "e",
            "do",
            "da",
            "em",
            "um",
            "uma",
            "para",
            "com",
            "não",
            "por",
            "se",
            "mais",
            "dos",
            "das",
        ]
    ),
}
_LANGS_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOPWORDS.items():
    for _word in _words:
        _LANGS_OF[_word] = (*_LANGS_OF.get(_word, ()), _lang)
_SIZE_BUCKETS = (
    (1_024, "<1 KB"),
    (10_240, "1-10 KB"),
    (102_400, "10-100 KB"),
    (1_048_576, "100 KB-1 MB"),
    (float("inf"), ">1 MB"),
)
_SHORT_FORMAT = {
    "text/plain": "txt",
    "text/markdown": "md",
    "text/html": "html",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/json": "json",
    "application/octet-stream": "other",
}


def detect_language(text: str, sample_chars: int = 2000) -> str:
    """ISO 639-1 code of the language whose function words are most frequent in the first
    ``sample_chars`` characters; ``"unknown"`` when fewer than 3 (or under 5% of the words)
    match any profile."""
    tokens = LETTER_WORD.findall(text[:sample_chars].lower())
    if not tokens:
        return "unknown"
    hits = dict.fromkeys(_STOPWORDS, 0)
    for token in tokens:
        for lang in _LANGS_OF.get(token, ()):
            hits[lang] += 1
    lang, best = max(hits.items(), key=lambda p: p[1])
    if best < 3 or best < 0.05 * len(tokens):
        return "unknown"
    return lang


class Inventory:
    name = "inventory"

    def __init__(self) -> None:
        self.formats: Counter[str] = Counter()
        self.sizes: Counter[str] = Counter()
        self.languages: Counter[str] = Counter()
        self.sources: Counter[str] = Counter()
        self.total_bytes = 0
        self.pdfs = 0
        self.pdf_pages = 0
        self.unsupported: list[str] = []

    def observe(self, doc: AssessedDocument, i: int) -> None:
        self.formats[_SHORT_FORMAT.get(doc.media_type, doc.media_type or "unknown")] += 1
        size = doc.size if doc.size is not None else len(doc.text.encode("utf-8"))
        self.total_bytes += size
        self.sizes[next(label for limit, label in _SIZE_BUCKETS if size < limit)] += 1
        self.sources[doc.container] += 1
        if doc.text:
            self.languages[detect_language(doc.text)] += 1
        if doc.page_count is not None:
            self.pdfs += 1
            self.pdf_pages += doc.page_count
        if doc.error_code == "parse.unsupported":
            self.unsupported.append(doc.uri)

    def finish(self, ctx: Context) -> Section:
        n = ctx.documents
        findings = [
            finding(
                "warning",
                "inventory.unsupported_format",
                f"{uri}: no parser for this format; it would not be indexed",
                [location(uri)],
            )
            for uri in self.unsupported
        ]
        known = {k: v for k, v in self.languages.items() if k != "unknown"}
        main = max(known, key=known.__getitem__) if known else "unknown"
        others = {k: v for k, v in known.items() if k != main and v >= max(1, 0.05 * n)}
        if others:
            findings.append(
                finding(
                    "info",
                    "inventory.mixed_languages",
                    f"documents in several languages: {dict(self.languages.most_common())}; "
                    "the bundled embedding model is English-only",
                    [],
                    {"languages": dict(self.languages)},
                )
            )
        advice = []
        if self.unsupported:
            advice.append(
                f"Convert or drop {len(self.unsupported)} file(s) in unsupported "
                "formats (export to PDF, DOCX, HTML, Markdown or text)."
            )
        if others:
            advice.append("Use a multilingual embedding model, or split the corpus by language.")
        size_order = [label for _, label in _SIZE_BUCKETS]
        top_sources = self.sources.most_common(15)
        return Section(
            score=ratio_score(len(self.unsupported), n),
            summary=(
                f"{n} documents, {self.total_bytes / 1_048_576:.1f} MB in "
                f"{len(self.formats)} format(s); main language {main}"
            ),
            advice=advice,
            findings=findings,
            charts=[
                chart("Documents by format", *_pairs(self.formats.most_common()), "documents"),
                chart(
                    "Documents by size",
                    size_order,
                    [self.sizes.get(s, 0) for s in size_order],
                    "documents",
                ),
                chart("Documents by language", *_pairs(self.languages.most_common()), "documents"),
                chart("Documents per source (top 15)", *_pairs(top_sources), "documents"),
            ],
            figures={
                "documents": n,
                "total_bytes": self.total_bytes,
                "formats": len(self.formats),
                "main_language": main,
                "pdf_documents": self.pdfs,
                "pdf_pages": self.pdf_pages,
                "sources": len(self.sources),
            },
            weight=0.5,
        )


def _pairs(items: list[tuple[str, int]]) -> tuple[list[str], list[float]]:
    return [k for k, _ in items], [v for _, v in items]
