"""The rendered assessment report in a real headless Chromium, opened from a file:// URL:
no console errors, no network request of any kind, every chart's SVG visible, hostile
excerpts shown as text. With ``GROUNDWIRE_SCREENSHOTS=1`` it also refreshes the documentation
screenshot ``docs/images/assessment-report.png``."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from groundwire.assess.html_report import render_html

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "data" / "assess" / "sample_report.json"
SCREENSHOT = REPO / "docs" / "images" / "assessment-report.png"
HOSTILE = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'


def report_with_hostile_excerpt() -> dict[str, Any]:
    report = copy.deepcopy(json.loads(SAMPLE.read_text(encoding="utf-8")))
    report["dimensions"]["model_safety"]["findings"].append({
        "severity": "critical", "kind": "injection.instruction",
        "message": "hostile excerpt " + HOSTILE,
        "locations": [{"uri": "web/evil.html", "start": 0, "end": 10, "excerpt": HOSTILE}],
        "details": {},
    })
    return report


def test_report_opens_offline_with_visible_charts(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    report = report_with_hostile_excerpt()
    path = tmp_path / "assessment.html"
    path.write_text(render_html(report), encoding="utf-8")
    url = path.as_uri()

    context = browser.new_context(viewport={"width": 1200, "height": 1600})
    page = context.new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(url)
        page.wait_for_load_state("load")
        expect(page.locator("#verdict")).to_be_visible()
        expect(page.locator("#verdict .verdict")).to_have_text("Not ready")
        expect(page.locator("#top-fixes li")).to_have_count(len(report["top_fixes"]))
        for name in report["dimensions"]:
            expect(page.locator(f"section[data-dimension='{name}']")).to_be_visible()

        charts = [c for d in report["dimensions"].values() for c in d["charts"] if c["labels"]]
        svgs = page.locator("figure.chart svg.bars")
        expect(svgs).to_have_count(len(charts))
        for i in range(len(charts)):
            svg = svgs.nth(i)
            svg.scroll_into_view_if_needed()
            expect(svg).to_be_visible()
            box = svg.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 10
            assert svg.locator("rect.bar").count() == len(charts[i]["labels"])

        conflict = page.locator("section[data-dimension='conflicts'] .compare").first
        expect(conflict.locator("mark").first).to_be_visible()

        # Untrusted excerpts are text: nothing ran, the markup is visible verbatim.
        assert page.evaluate("window.__pwned") is None
        expect(page.get_by_text(HOSTILE, exact=True)).to_have_count(1)

        if os.environ.get("GROUNDWIRE_SCREENSHOTS") == "1":
            clean = tmp_path / "sample.html"
            clean.write_text(render_html(json.loads(SAMPLE.read_text(encoding="utf-8"))),
                             encoding="utf-8")
            page.goto(clean.as_uri())
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            # The top of the page through the side-by-side conflicts: banner, fixes, counts,
            # overview, charts, findings table, highlighted diffs.
            end = page.locator("section[data-dimension='conflicts']").bounding_box()
            assert end is not None
            page.screenshot(path=str(SCREENSHOT), full_page=True,
                            clip={"x": 0, "y": 0, "width": 1200,
                                  "height": end["y"] + end["height"] + 24})
    finally:
        context.close()
    assert not problems, problems
    assert all(u.startswith("file://") for u in requests), requests
    assert len({u for u in requests}) <= 2, requests  # the report (and the clean copy) only
