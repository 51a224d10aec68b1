"""Dimensions fed with hand-made documents: counting rules and edge cases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from groundwire.assess.dimensions.base import Context
from groundwire.assess.dimensions.conflicts import Conflicts
from groundwire.assess.dimensions.duplicates import Duplicates
from groundwire.assess.dimensions.question_coverage import QuestionCoverage
from groundwire.assess.dimensions.retrieval_fitness import RetrievalFitness
from groundwire.assess.dimensions.staleness import Staleness
from groundwire.assess.runner import estimate_tokens
from groundwire.assess.source import AssessedDocument
from groundwire.assess.spool import TextSpool
from groundwire.domain import Block, ParsedDocument
from groundwire.ingest.chunking import Chunker
from groundwire.settings import Settings

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "sigma",
    "tau",
    "upsilon",
    "omega",
    "river",
    "stone",
    "cloud",
    "field",
    "light",
]


def _text(rng: random.Random, n: int = 80) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


def _doc(uri: str, text: str, **kw: object) -> AssessedDocument:
    chunker = Chunker(estimate_tokens, max_tokens=200, overlap_tokens=20, window_tokens=256)
    parsed = ParsedDocument(title="", blocks=(Block(text),)) if text else None
    return AssessedDocument(
        uri=uri,
        media_type="text/plain",
        container=".",
        text=text,
        doc=parsed,
        chunks=chunker.chunk(parsed) if parsed else [],
        **kw,
    )  # type: ignore[arg-type]


def _run(dims: list, docs: list[AssessedDocument], now: datetime | None = None):
    ctx = Context(
        settings=Settings(),
        now=now or datetime.now(UTC),
        uris=[],
        spool=TextSpool(),
        count_tokens=estimate_tokens,
        window_tokens=256,
    )
    for i, doc in enumerate(docs):
        ctx.uris.append(doc.uri)
        ctx.spool.append(doc.text)
        for dim in dims:
            dim.observe(doc, i)
    sections = [dim.finish(ctx) for dim in dims]
    ctx.spool.close()
    return sections


def test_exact_duplicates_count_later_copies_only_and_ignore_empty() -> None:
    rng = random.Random(3)
    a, b = _text(rng), _text(rng)
    docs = [
        _doc("1", a),
        _doc("2", a.upper()),
        _doc("3", b),
        _doc("4", "  " + a + " "),
        _doc("5", ""),
        _doc("6", ""),
    ]
    (section,) = _run([Duplicates(0.7)], docs)
    assert section.figures["exact_duplicate_documents"] == 2
    (group,) = [f for f in section.findings if f["kind"] == "duplicate.exact"]
    assert [loc["uri"] for loc in group["locations"]] == ["1", "2", "4"]


def test_near_duplicates_cluster_small_edits_not_unrelated_texts() -> None:
    rng = random.Random(5)
    base = _text(rng, 150).split()
    variant = list(base)
    variant[10], variant[70] = "changed", "edited"
    other = _text(random.Random(99), 150)
    docs = [_doc("a", " ".join(base)), _doc("b", other), _doc("c", " ".join(variant))]
    dup, conflicts = Duplicates(0.7), Conflicts()
    section, conflict_section = _run([dup, conflicts], docs)
    assert section.figures["near_duplicate_clusters"] == 1
    (cluster,) = [f for f in section.findings if f["kind"] == "duplicate.near"]
    assert {loc["uri"] for loc in cluster["locations"]} == {"a", "c"}
    assert conflict_section.figures["conflicting_pairs"] == 0  # words changed, not numbers


def test_conflicts_need_differing_numbers_within_a_cluster() -> None:
    body = _text(random.Random(8), 120)
    docs = [
        _doc("v1", body + " The limit is 250 kg per pallet."),
        _doc("v2", body + " The limit is 300 kg per pallet."),
    ]
    _, section = _run([Duplicates(0.7), Conflicts()], docs)
    (f,) = section.findings
    assert f["details"]["diffs"] == [{"a": "250", "b": "300"}]
    assert [loc["uri"] for loc in f["locations"]] == ["v1", "v2"]
    assert f["locations"][0]["excerpt"] and "250" in f["locations"][0]["excerpt"]


def test_staleness_uses_metadata_date_over_mtime_and_text_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    fresh = now - timedelta(days=10)
    docs = [
        _doc("fresh", "Nothing dated here.", modified_at=fresh),
        _doc("old-mtime", "Nothing dated here.", modified_at=now - timedelta(days=800)),
        _doc("old-field", "x", modified_at=fresh, metadata={"updated_at": "2020-01-01"}),
        _doc("old-text", "Policy effective 2019-07-01.", modified_at=fresh),
        _doc("new-text", "Policy effective 2025-12-01, replaces 2019-07-01.", modified_at=fresh),
        _doc("unknown", "No date at all."),
    ]
    (section,) = _run([Staleness(365, now)], docs, now)
    stale = {f["locations"][0]["uri"] for f in section.findings}
    assert stale == {"old-mtime", "old-field", "old-text"}
    assert section.figures["stale_documents"] == 3


def test_retrieval_fitness_boilerplate_and_over_window() -> None:
    rng = random.Random(11)
    footer = "Copyright Example Corp. All rights reserved. Do not distribute."
    docs = [_doc(str(i), _text(rng, 40) + "\n" + footer) for i in range(10)]
    fit = RetrievalFitness(estimate_tokens, window_tokens=30)  # every chunk exceeds 30 tokens
    (section,) = _run([fit], docs)
    assert section.figures["boilerplate_share"] > 0.1
    assert section.figures["over_window_share"] == 1.0
    assert any(f["kind"] == "retrieval.boilerplate" for f in section.findings)
    assert section.score < 50


def test_question_coverage_lexical_support_with_local_bm25() -> None:
    docs = [
        _doc("refunds", "Refunds are paid within fourteen days of the return. Keep the receipt."),
        _doc("shipping", "Parcels ship from the central warehouse every weekday morning."),
    ]
    cov = QuestionCoverage(["When are refunds paid?", "How do I repair a violin bow?"], 10)
    (section,) = _run([cov], docs)
    assert section.figures == {**section.figures, "questions": 2, "strong": 1}
    (weak,) = section.findings
    assert weak["details"]["question"] == "How do I repair a violin bow?"
    assert section.score == 50


def test_question_coverage_derives_questions_from_headings() -> None:
    parsed = ParsedDocument(
        title="Returns guide",
        blocks=(
            Block("Refund timing", level=2),
            Block("Refunds are paid within fourteen days."),
            Block("Intro", level=2),
            Block("Hello."),
        ),
    )
    doc = AssessedDocument(
        uri="g.md",
        media_type="text/markdown",
        container=".",
        title="Returns guide",
        text=parsed.text,
        doc=parsed,
    )
    cov = QuestionCoverage(None, 10, build_index=False)
    cov.observe(doc, 0)
    # "Intro" has a single content term: too vague to be a question.
    assert cov.questions() == ["Returns guide", "Refund timing"]
