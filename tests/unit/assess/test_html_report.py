"""render_html: one self-contained page (no script, no URL of any kind), every dimension
rendered with its charts and findings, untrusted text escaped, conflicts side by side."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from groundwire.assess.html_report import DIMENSION_TITLES, render_html

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "assess" / "sample_report.json"
NAMES = tuple(DIMENSION_TITLES)


@pytest.fixture
def report() -> dict[str, Any]:
    return copy.deepcopy(json.loads(SAMPLE.read_text(encoding="utf-8")))


def soup_of(report: dict[str, Any]) -> BeautifulSoup:
    return BeautifulSoup(render_html(report), "html.parser")


def test_sample_report_follows_the_schema(report: dict[str, Any]) -> None:
    assert report["schema_version"] == 1
    assert set(report["dimensions"]) == set(NAMES)
    assert report["verdict"] in ("ready", "ready_with_warnings", "not_ready")
    assert len(report["top_fixes"]) == 3
    for dim in report["dimensions"].values():
        assert {"score", "summary", "advice", "findings", "charts", "figures"} <= set(dim)
        for f in dim["findings"]:
            assert f["severity"] in ("critical", "warning", "info")
            assert {"kind", "message", "locations", "details"} <= set(f)
    conflicts = report["dimensions"]["conflicts"]["findings"]
    assert any("diffs" in f["details"] for f in conflicts)


def test_every_dimension_is_rendered_with_its_parts(report: dict[str, Any]) -> None:
    soup = soup_of(report)
    for name in NAMES:
        dim = report["dimensions"][name]
        section = soup.find("section", attrs={"data-dimension": name})
        assert section is not None, name
        text = section.get_text(" ")
        assert DIMENSION_TITLES[name] in text
        assert dim["summary"] in text
        for advice in dim["advice"]:
            assert advice in text
        assert len(section.select("tr.finding")) == len(dim["findings"])
        assert len(section.select("figure.chart svg.bars")) == len(
            [c for c in dim["charts"] if c["labels"]]
        )
        # the score meter says the dimension's score
        assert section.select_one("svg.meter")["aria-label"] == f"score {dim['score']} of 100"


def test_banner_fixes_and_counts(report: dict[str, Any]) -> None:
    soup = soup_of(report)
    banner = soup.select_one("#verdict")
    assert banner["data-verdict"] == "not_ready" and "bad" in banner["class"]
    assert "Not ready" in banner.get_text() and "58" in banner.get_text()
    assert [li.get_text() for li in soup.select("#top-fixes li")] == report["top_fixes"]
    counts = {li["data-count"]: li.select_one(".n").get_text() for li in soup.select("#counts li")}
    assert counts["documents"] == "4,812" and counts["injection_suspects"] == "2"
    assert set(counts) == set(report["counts"])
    for verdict, css in (("ready", "good"), ("ready_with_warnings", "warn")):
        report["verdict"] = verdict
        assert css in soup_of(report).select_one("#verdict")["class"]


def test_charts_draw_one_bar_per_label_scaled_to_the_maximum(report: dict[str, Any]) -> None:
    chart = report["dimensions"]["inventory"]["charts"][0]
    soup = soup_of(report)
    svg = soup.find("section", attrs={"data-dimension": "inventory"}).select_one("svg.bars")
    bars = svg.select("rect.bar")
    assert len(bars) == len(chart["labels"])
    widths = [float(b["width"]) for b in bars]
    top = max(chart["values"])
    for width, value in zip(widths, chart["values"], strict=True):
        assert width == pytest.approx(max(value / top * 300, 1.0), abs=0.1)
    assert [t.get_text() for t in svg.select("text[text-anchor=end]")] == chart["labels"]


def test_untrusted_text_is_escaped_everywhere(report: dict[str, Any]) -> None:
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&"
    report["top_fixes"][0] = evil
    report["target"]["path"] = evil
    dim = report["dimensions"]["model_safety"]
    dim["summary"] = evil
    dim["advice"] = [evil]
    dim["charts"][0]["labels"][0] = evil
    dim["charts"][0]["title"] = evil
    dim["figures"][evil] = evil
    dim["findings"][0]["message"] = evil
    dim["findings"][0]["kind"] = evil
    dim["findings"][0]["locations"][0]["excerpt"] = evil
    dim["findings"][0]["locations"][0]["uri"] = evil
    conflict = report["dimensions"]["conflicts"]["findings"][0]["details"]
    conflict["a"]["excerpt"] = "up to <b>12%</b> " + evil
    html = render_html(report)
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "<b>" not in html
    assert "onerror=alert" not in html.replace("onerror=alert(2)&gt;", "")  # only as text
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("script") is None and soup.find("img") is None
    assert evil in soup.get_text()
    # the marked span still works next to escaped markup
    assert "&lt;b&gt;<mark>12%</mark>&lt;/b&gt;" in html


def test_no_resource_or_url_of_any_kind(report: dict[str, Any]) -> None:
    html = render_html(report)
    soup = BeautifulSoup(html, "html.parser")
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"url\s*\(|@import", html)
    assert soup.find(["script", "link", "img", "iframe", "object", "embed"]) is None
    for tag in soup.find_all(True):
        for attr in ("src", "href", "action", "srcset", "xlink:href"):
            value = tag.get(attr)
            assert value is None or value.startswith("#"), (tag.name, attr, value)
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert "default-src 'none'" in csp["content"]
    # internal navigation links point at sections that exist
    for a in soup.select("a[href^='#']"):
        assert soup.find(id=a["href"][1:]) is not None


def test_conflicts_side_by_side_with_the_differing_spans_marked(report: dict[str, Any]) -> None:
    soup = soup_of(report)
    section = soup.find("section", attrs={"data-dimension": "conflicts"})
    compare = section.select_one(".compare")
    a, b = compare.select(".side")
    assert "policies/travel.md" in a.get_text() and "archive/2024/travel-policy.md" in b.get_text()
    assert [m.get_text() for m in a.select("mark")] == ["55", "12%"]
    assert [m.get_text() for m in b.select("mark")] == ["45", "15%"]


def test_a_span_is_not_marked_inside_a_longer_number() -> None:
    report = {
        "dimensions": {
            "conflicts": {
                "score": 50,
                "summary": "s",
                "findings": [
                    {
                        "severity": "critical",
                        "kind": "conflict.version",
                        "message": "m",
                        "locations": [],
                        "details": {
                            "a": {"uri": "a.md", "excerpt": "Version 15 costs 5 EUR"},
                            "b": {"uri": "b.md", "excerpt": "Version 15 costs 6 EUR"},
                            "diffs": [{"a": "5", "b": "6"}],
                        },
                    }
                ],
            }
        }
    }
    soup = soup_of(report)
    a = soup.select(".compare .side")[0]
    assert [m.get_text() for m in a.select("mark")] == ["5"]
    assert "Version 15 costs" in a.get_text()


def test_partial_or_odd_reports_render() -> None:
    html = render_html({})
    assert html.startswith("<!DOCTYPE html>") and "Not assessed" in html
    odd = {
        "verdict": "weird",
        "score": "n/a",
        "counts": {"documents": 3, "extra": 1.5},
        "dimensions": {
            "custom_check": {
                "score": 120,
                "summary": "custom",
                "charts": [
                    {"title": "empty", "labels": [], "values": []},
                    {"title": "neg", "labels": ["x", "y"], "values": [-3, float("nan")]},
                ],
                "findings": [{"severity": "bogus"}],
            }
        },
    }
    soup = soup_of(odd)
    section = soup.find("section", attrs={"data-dimension": "custom_check"})
    assert section is not None
    assert section.select_one("svg.meter")["aria-label"] == "score 100 of 100"
    assert "No data." in section.get_text()
    assert len(section.select("rect.bar")) == 2
    assert section.select_one(".badge.info").get_text() == "bogus"
