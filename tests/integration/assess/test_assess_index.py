"""``run_assessment`` on an ingested index (real PostgreSQL, real model, real hybrid
retrieval): documents come back from the store with their failures, duplicates, PII, ACLs
and question coverage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from groundwire.assess import AssessmentSource, run_assessment
from groundwire.bootstrap import build_app
from groundwire.errors import NotFound

pytestmark = pytest.mark.integration

LIGHTHOUSE = (
    "The lighthouse keeper lit the Fresnel lens at dusk every evening and wound the "
    "clockwork that turned the light. Ships rounding the cape watched for its beam."
)
GLACIER = (
    "The glacier calves icebergs into the fjord each summer. Meltwater carves blue "
    "channels through the ice before it reaches the sea."
)


async def test_assess_an_ingested_index(
    tmp_path: Path, make_settings: Callable[..., Any], real_embedder: Any
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lighthouse.md").write_text(
        f"---\nallowed_groups: [crew]\n---\n# Lighthouse keeping\n\n{LIGHTHOUSE}\n",
        encoding="utf-8",
    )
    (docs / "copy.md").write_text(f"# Copy\n\n{LIGHTHOUSE}\n", encoding="utf-8")
    (docs / "glacier.txt").write_text(
        f"{GLACIER}\n\nQuestions to jane.doe@example.com please.", encoding="utf-8"
    )
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    settings = make_settings(assess={"max_findings": 100})
    async with build_app(settings, embedder=real_embedder) as gw:
        await gw.ingest_path(docs, index="docs")
        report = await run_assessment(
            AssessmentSource.of_index("docs"),
            settings,
            embedder=real_embedder,
            store=gw.store,
            questions=["When does the keeper light the lens?", "How do I bake sourdough?"],
        )
        with pytest.raises(NotFound):
            await run_assessment(AssessmentSource.of_index("nope"), settings, store=gw.store)

    counts = report["counts"]
    assert report["target"] == {"kind": "index", "path": None, "index": "docs"}
    assert counts["documents"] == 4
    assert counts["failed"] == 1
    assert counts["exact_duplicate_documents"] == 1
    assert counts["pii_documents"] == 1
    assert counts["no_acl_documents"] == 3  # only lighthouse.md carries allowed_groups
    coverage = report["dimensions"]["question_coverage"]
    assert coverage["figures"]["questions"] == 2 and coverage["figures"]["strong"] == 1
    assert coverage["figures"]["support_method"] == "extractive"
    (weak,) = coverage["findings"]
    assert weak["details"]["question"] == "How do I bake sourdough?"
    failed = [
        f for f in report["dimensions"]["parseability"]["findings"] if f["severity"] == "critical"
    ]
    assert [(f["kind"], f["locations"][0]["uri"]) for f in failed] == [
        ("parse.pdf_invalid", "broken.pdf")
    ]
