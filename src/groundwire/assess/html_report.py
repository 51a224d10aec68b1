"""The assessment report as one self-contained HTML page.

``render_html(report) -> str`` turns the report dict (schema in docs/assessment.md,
``schema_version`` 1) into a single page that opens offline: inline CSS, inline SVG charts
and gauges, no JavaScript, and no reference to any URL (a Content-Security-Policy of
``default-src 'none'`` makes the browser refuse anything that slipped through). Every string
from the report is HTML-escaped: excerpts are untrusted document text.

Layout: verdict banner with the overall score, the top fixes, the counts, an overview of the
dimension scores, then one section per dimension (score bar, summary, advice, headline
figures, bar charts, findings table). Conflict findings (``details.a``/``details.b``/
``details.diffs``) show the two versions side by side with the differing spans marked.
Missing keys render as empty, never as an error.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DIMENSION_TITLES = {
    "inventory": "Inventory",
    "parseability": "Parseability",
    "duplicates": "Duplicates",
    "conflicts": "Conflicting versions",
    "staleness": "Staleness",
    "sensitive_data": "Sensitive data",
    "access": "Access control",
    "model_safety": "Model safety",
    "retrieval_fitness": "Retrieval fitness",
    "question_coverage": "Question coverage",
}
COUNT_LABELS = {
    "documents": "Documents",
    "failed": "Failed to parse",
    "empty": "Empty",
    "exact_duplicate_documents": "Exact duplicates",
    "near_duplicate_clusters": "Near-duplicate clusters",
    "pii_documents": "Documents with personal data",
    "stale_documents": "Stale documents",
    "no_acl_documents": "Without access control",
    "injection_suspects": "Injection suspects",
}
VERDICTS = {
    "ready": ("Ready", "good"),
    "ready_with_warnings": ("Ready with warnings", "warn"),
    "not_ready": ("Not ready", "bad"),
}
MAX_FINDINGS_SHOWN = 200
MAX_CHART_BARS = 30

_CSS = """
:root{--good:#1a7f37;--warn:#9a6700;--bad:#cf222e;--ink:#1f2328;--muted:#59636e;
--line:#d1d9e0;--bg:#ffffff;--panel:#f6f8fa;--bar:#0969da;--mark:#fff1a8}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:21px;margin:0}h3{font-size:16px;margin:18px 0 8px}
.meta{color:var(--muted);font-size:13px}
.banner{display:flex;gap:24px;align-items:center;border-radius:10px;padding:18px 22px;
margin:18px 0;color:#fff}
.banner.good{background:var(--good)}.banner.warn{background:var(--warn)}
.banner.bad{background:var(--bad)}
.banner .verdict{font-size:28px;font-weight:700}.banner .score-text{font-size:15px}
.banner svg circle.track{stroke:rgba(255,255,255,.3)}.banner svg circle.value{stroke:#fff}
.banner svg text{fill:#fff}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:10px;
padding:14px 18px;margin:14px 0}
.fixes li{margin:4px 0}
.counts{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;
padding:0;margin:0;list-style:none}
.counts li{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:10px}
.counts .n{font-size:22px;font-weight:700;display:block}
.counts .l{color:var(--muted);font-size:13px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid var(--line);padding:6px 8px}
th{background:var(--panel)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.overview a{color:var(--ink)}
section.dimension{border:1px solid var(--line);border-radius:10px;padding:16px 20px;
margin:22px 0;break-inside:avoid-page}
.dim-head{display:flex;justify-content:space-between;align-items:center;gap:16px;
flex-wrap:wrap}
.summary{font-size:15px;margin:8px 0}
.good-t{color:var(--good)}.warn-t{color:var(--warn)}.bad-t{color:var(--bad)}
.figures{display:flex;flex-wrap:wrap;gap:8px 22px;margin:8px 0;padding:0}
.figures div{display:flex;flex-direction:column}
.figures dt{color:var(--muted);font-size:12px}.figures dd{margin:0;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure.chart{margin:0;background:var(--panel);border:1px solid var(--line);border-radius:8px;
padding:10px}
figure.chart figcaption{font-weight:600;font-size:14px;margin-bottom:4px}
svg.bars text{font-size:12px;fill:var(--ink)}svg.bars rect.bar{fill:var(--bar)}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;
color:#fff;white-space:nowrap}
.badge.critical{background:var(--bad)}.badge.warning{background:var(--warn)}
.badge.info{background:var(--muted)}
code.kind{font-size:12px;white-space:nowrap}
ul.locs{list-style:none;margin:4px 0 0;padding:0}ul.locs li{margin:2px 0}
.uri{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;
word-break:break-all}
.excerpt{display:block;white-space:pre-wrap;word-break:break-word;background:var(--panel);
border-left:3px solid var(--line);padding:2px 6px;margin-top:2px;font-size:13px;
font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.compare{display:grid;grid-template-columns:1fr 1fr;gap:10px;margin-top:6px}
.compare .side{border:1px solid var(--line);border-radius:6px;padding:6px 8px;min-width:0}
.compare .side h4{margin:0 0 4px;font-size:12px;color:var(--muted)}
mark{background:var(--mark);color:inherit;padding:0 1px;border-radius:2px;
outline:1px solid #d4a72c}
tr.finding:has(+ tr.compare-row) td{border-bottom:0}
ul.diffs{margin:6px 0 0;padding-left:18px;font-size:13px}
details.more{margin-top:4px;font-size:12px}details.more pre{white-space:pre-wrap;margin:4px 0}
.muted{color:var(--muted)}
@media print{.banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def _e(value: Any) -> str:
    """Escape any value for HTML text and attribute context."""
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return _e(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return _e(value)


def _tone(score: float) -> str:
    return "good" if score >= 80 else ("warn" if score >= 50 else "bad")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-") or "section"


def _gauge(score: float, size: int = 92) -> str:
    """A ring gauge of ``score`` (0..100) as inline SVG."""
    score = max(0.0, min(100.0, score))
    r = size / 2 - 8
    circumference = 2 * math.pi * r
    filled = circumference * score / 100
    c = size / 2
    return (
        f'<svg class="gauge" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="score {score:.0f} of 100"><title>score {score:.0f} of 100'
        f'</title><circle class="track" cx="{c}" cy="{c}" r="{r:.1f}" fill="none" '
        f'stroke-width="8"/><circle class="value" cx="{c}" cy="{c}" r="{r:.1f}" fill="none" '
        f'stroke-width="8" stroke-linecap="round" stroke-dasharray="{filled:.1f} '
        f'{circumference:.1f}" transform="rotate(-90 {c} {c})"/><text x="{c}" y="{c + 8}" '
        f'text-anchor="middle" font-size="24" font-weight="700">{score:.0f}</text></svg>'
    )


def _score_bar(score: float, width: int = 220) -> str:
    """A horizontal 0..100 meter as inline SVG, coloured by band."""
    score = max(0.0, min(100.0, score))
    colour = {"good": "#1a7f37", "warn": "#9a6700", "bad": "#cf222e"}[_tone(score)]
    return (
        f'<svg class="meter" width="{width + 56}" height="20" viewBox="0 0 {width + 56} 20" '
        f'role="img" aria-label="score {score:.0f} of 100"><title>score {score:.0f} of 100'
        f'</title><rect x="0" y="4" width="{width}" height="12" rx="6" fill="#d1d9e0"/>'
        f'<rect x="0" y="4" width="{width * score / 100:.1f}" height="12" rx="6" '
        f'fill="{colour}"/><text x="{width + 8}" y="15" font-size="13" font-weight="700" '
        f'fill="{colour}">{score:.0f}</text></svg>'
    )


def _bar_chart(chart: Mapping[str, Any]) -> str:
    """A horizontal bar chart (one row per label) as inline SVG inside a ``<figure>``."""
    title = chart.get("title") or ""
    unit = chart.get("unit") or ""
    labels = [str(x) for x in (chart.get("labels") or [])]
    values = [_num(v) for v in (chart.get("values") or [])]
    rows = list(zip(labels, values, strict=False))[:MAX_CHART_BARS]
    caption = f"<figcaption>{_e(title)}{f' <span class=muted>({_e(unit)})</span>' if unit else ''}"
    caption += "</figcaption>"
    if not rows:
        return f'<figure class="chart">{caption}<p class="muted">No data.</p></figure>'
    label_w, bar_w, value_w, row_h = 170, 300, 70, 24
    width = label_w + bar_w + value_w
    height = row_h * len(rows) + 8
    top = max((v for _, v in rows), default=0.0)
    parts = [
        f'<svg class="bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>'
    ]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        length = 0.0 if top <= 0 else max(0.0, value) / top * bar_w
        shown = label if len(label) <= 26 else label[:25] + "…"
        parts.append(
            f'<g><title>{_e(label)}: {_fmt(value)} {_e(unit)}</title>'
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{_e(shown)}</text>'
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{max(length, 1.0):.1f}" '
            f'height="{row_h - 8}" rx="3"/>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + 16}">{_fmt(value)}</text></g>'
        )
    parts.append("</svg>")
    return f'<figure class="chart">{caption}{"".join(parts)}</figure>'


def _highlight(text: str, spans: Iterable[str]) -> str:
    """Escape ``text`` and wrap each occurrence of any of ``spans`` in ``<mark>``."""
    needles = sorted({s for s in spans if s and s.strip()}, key=len, reverse=True)
    if not needles or not text:
        return _e(text)
    # A span must not be glued to a longer word or number: "5" is not marked inside "15".
    pattern = re.compile("|".join(
        (r"(?<![\w.,])" if n[0].isalnum() else "") + re.escape(n)
        + (r"(?![\w]|[.,]\d)" if n[-1].isalnum() else "")
        for n in needles
    ))
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append(_e(text[pos:m.start()]))
        out.append(f"<mark>{_e(m.group())}</mark>")
        pos = m.end()
    out.append(_e(text[pos:]))
    return "".join(out)


def _side(label: str, side: Mapping[str, Any], spans: list[str]) -> str:
    text = side.get("excerpt") if side.get("excerpt") is not None else side.get("text", "")
    meta = [f"{_e(k)}: {_e(v)}" for k, v in side.items()
            if k not in ("excerpt", "text", "uri") and isinstance(v, str | int | float)]
    return (
        f'<div class="side"><h4>{_e(label)} · <span class="uri">{_e(side.get("uri", ""))}'
        f'</span>{(" · " + " · ".join(meta)) if meta else ""}</h4>'
        f'<span class="excerpt">{_highlight(str(text or ""), spans)}</span></div>'
    )


def _conflict(details: Mapping[str, Any]) -> str:
    diffs = [d for d in details.get("diffs") or [] if isinstance(d, Mapping)]
    a, b = details.get("a"), details.get("b")
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return ""
    spans_a = [str(d.get("a", "")) for d in diffs]
    spans_b = [str(d.get("b", "")) for d in diffs]
    listing = "".join(
        f"<li><mark>{_e(d.get('a', ''))}</mark> vs <mark>{_e(d.get('b', ''))}</mark></li>"
        for d in diffs
    )
    return (
        f'<div class="compare">{_side("A", a, spans_a)}{_side("B", b, spans_b)}</div>'
        + (f'<ul class="diffs">{listing}</ul>' if listing else "")
    )


def _locations(locations: Sequence[Any]) -> str:
    items: list[str] = []
    for loc in locations:
        if not isinstance(loc, Mapping):
            continue
        where = ""
        if loc.get("start") is not None:
            end = loc.get("end")
            where = f' <span class="muted">[{_e(loc.get("start"))}–{_e(end)}]</span>'
        excerpt = loc.get("excerpt")
        body = f'<span class="excerpt">{_e(excerpt)}</span>' if excerpt else ""
        items.append(f'<li><span class="uri">{_e(loc.get("uri", ""))}</span>{where}{body}</li>')
    return f'<ul class="locs">{"".join(items)}</ul>' if items else ""


def _details(details: Any) -> str:
    if not isinstance(details, Mapping) or not details:
        return ""
    try:
        dumped = json.dumps(details, indent=1, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        dumped = str(details)
    if len(dumped) > 4000:
        dumped = dumped[:4000] + "\n…"
    return f'<details class="more"><summary>details</summary><pre>{_e(dumped)}</pre></details>'


def _findings(findings: Sequence[Any], total: Any) -> str:
    if not findings:
        return '<p class="muted">No findings.</p>'
    rows: list[str] = []
    for f in findings[:MAX_FINDINGS_SHOWN]:
        if not isinstance(f, Mapping):
            continue
        severity = str(f.get("severity", "info"))
        css = severity if severity in ("critical", "warning", "info") else "info"
        details = f.get("details") or {}
        compare = _conflict(details) if isinstance(details, Mapping) and "diffs" in details else ""
        extra = "" if compare else _details(details)
        rows.append(
            f'<tr class="finding {css}"><td><span class="badge {css}">{_e(severity)}</span></td>'
            f'<td><code class="kind">{_e(f.get("kind", ""))}</code></td>'
            f'<td>{_e(f.get("message", ""))}{extra}</td>'
            f'<td>{_locations(f.get("locations") or [])}</td></tr>'
        )
        if compare:
            rows.append(f'<tr class="compare-row"><td></td><td colspan="3">{compare}</td></tr>')
    shown = min(len(findings), MAX_FINDINGS_SHOWN)
    more = ""
    if isinstance(total, int) and total > shown:
        more = f'<p class="muted">Showing {shown} of {total:,} findings (worst first).</p>'
    return (
        '<table class="findings"><thead><tr><th>Severity</th><th>Kind</th><th>Finding</th>'
        f'<th>Locations</th></tr></thead><tbody>{"".join(rows)}</tbody></table>{more}'
    )


def _dimension(name: str, dim: Mapping[str, Any]) -> str:
    score = _num(dim.get("score"))
    title = DIMENSION_TITLES.get(name, name.replace("_", " ").capitalize())
    advice = [a for a in dim.get("advice") or []]
    figures = dim.get("figures") or {}
    charts = [c for c in dim.get("charts") or [] if isinstance(c, Mapping)]
    parts = [
        f'<section class="dimension" id="dim-{_slug(name)}" data-dimension="{_e(name)}">',
        f'<div class="dim-head"><h2>{_e(title)}</h2>{_score_bar(score)}</div>',
        f'<p class="summary">{_e(dim.get("summary", ""))}</p>',
    ]
    if advice:
        parts.append("<h3>Advice</h3><ul class=\"advice\">"
                     + "".join(f"<li>{_e(a)}</li>" for a in advice) + "</ul>")
    if isinstance(figures, Mapping) and figures:
        parts.append('<dl class="figures">' + "".join(
            f"<div><dt>{_e(str(k).replace('_', ' '))}</dt><dd>{_fmt(v)}</dd></div>"
            for k, v in figures.items()) + "</dl>")
    if charts:
        parts.append('<div class="charts">' + "".join(_bar_chart(c) for c in charts) + "</div>")
    total = figures.get("findings_total") if isinstance(figures, Mapping) else None
    findings = dim.get("findings") or []
    parts.append(f"<h3>Findings ({len(findings):,})</h3>{_findings(findings, total)}")
    parts.append("</section>")
    return "".join(parts)


def _ordered_dimensions(dimensions: Mapping[str, Any]) -> list[str]:
    known = [n for n in DIMENSION_TITLES if n in dimensions]
    return known + [n for n in dimensions if n not in DIMENSION_TITLES]


def render_html(report: Mapping[str, Any]) -> str:
    """The whole report as one HTML document (UTF-8 text); see the module docstring."""
    verdict = str(report.get("verdict", ""))
    verdict_label, tone = VERDICTS.get(verdict, (verdict or "Unknown", "warn"))
    score = _num(report.get("score"))
    target = report.get("target") or {}
    target_text = (target.get("path") or target.get("index") or "") if isinstance(
        target, Mapping) else ""
    target_kind = target.get("kind", "") if isinstance(target, Mapping) else ""
    dimensions = report.get("dimensions") or {}
    names = _ordered_dimensions(dimensions) if isinstance(dimensions, Mapping) else []
    counts = report.get("counts") or {}
    fixes = [f for f in report.get("top_fixes") or []]

    head = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"referrer\" content=\"no-referrer\">"
        f"<title>Groundwire assessment: {_e(verdict_label)} ({score:.0f}/100)</title>"
        f"<style>{_CSS}</style></head>"
    )
    body = [
        "<body><main>",
        "<header><h1>Data-readiness assessment</h1>",
        f'<p class="meta">{_e(target_kind)} <span class="uri">{_e(target_text)}</span> · '
        f'started {_e(report.get("started_at", ""))} · finished '
        f'{_e(report.get("finished_at", ""))} · {_num(report.get("duration_s")):.1f} s · '
        f'schema v{_e(report.get("schema_version", ""))}</p></header>',
        f'<div class="banner {tone}" id="verdict" data-verdict="{_e(verdict)}">{_gauge(score)}'
        f'<div><div class="verdict">{_e(verdict_label)}</div>'
        f'<div class="score-text">Overall score {score:.0f} / 100</div></div></div>',
    ]
    if fixes:
        body.append('<section class="panel fixes" id="top-fixes"><h2>Top fixes</h2><ol>'
                    + "".join(f"<li>{_e(f)}</li>" for f in fixes) + "</ol></section>")
    if isinstance(counts, Mapping) and counts:
        keys = [k for k in COUNT_LABELS if k in counts] + [k for k in counts
                                                             if k not in COUNT_LABELS]
        body.append('<section class="panel" id="counts"><h2>Counts</h2><ul class="counts">'
                    + "".join(f'<li data-count="{_e(k)}"><span class="n">{_fmt(counts[k])}'
                              f'</span><span class="l">{_e(COUNT_LABELS.get(k, k))}</span></li>'
                              for k in keys) + "</ul></section>")
    if names:
        rows = "".join(
            f'<tr><td><a href="#dim-{_slug(n)}">{_e(DIMENSION_TITLES.get(n, n))}</a></td>'
            f"<td>{_score_bar(_num(dimensions[n].get('score')), 160)}</td>"
            f"<td>{_e(dimensions[n].get('summary', ''))}</td></tr>"
            for n in names if isinstance(dimensions[n], Mapping)
        )
        body.append('<section class="panel overview" id="overview"><h2>Dimensions</h2>'
                    "<table><thead><tr><th>Dimension</th><th>Score</th><th>Summary</th></tr>"
                    f"</thead><tbody>{rows}</tbody></table></section>")
        body.extend(_dimension(n, dimensions[n]) for n in names
                    if isinstance(dimensions[n], Mapping))
    missing = [t for n, t in DIMENSION_TITLES.items() if n not in names]
    if missing:
        body.append(f'<p class="muted">Not assessed: {_e(", ".join(missing))}.</p>')
    body.append('<footer class="meta">Generated by Groundwire. This page is self-contained '
                "and loads nothing from the network.</footer></main></body></html>")
    return head + "".join(body)
