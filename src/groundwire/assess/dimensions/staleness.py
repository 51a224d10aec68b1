"""Staleness: documents last modified, or whose newest full date in the text is, older than
``assess.stale_days``.

The modification date is the first of the metadata fields ``source.DATE_FIELDS`` (record
fields, front matter) that parses as a date, else the file's modified time. Dates in the text
are full dates only (``2021-03-04``, ``4 March 2021``, ``March 4, 2021``, ``March 2021``);
bare years are ignored (too often history, not a version date).
Score: ``100 * (1 - stale / documents)``.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from groundwire.assess.dimensions.base import Context
from groundwire.assess.report import Section, chart, finding, location, ratio_score
from groundwire.assess.source import DATE_FIELDS, AssessedDocument
from groundwire.assess.textutil import MONTHS, excerpt

_MONTHS = MONTHS
_MON = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ISO = re.compile(r"\b((?:19|20)\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
_DMY = re.compile(rf"\b([0-3]?\d)(?:st|nd|rd|th)? {_MON},? ((?:19|20)\d\d)\b", re.IGNORECASE)
_MDY = re.compile(rf"\b{_MON} ([0-3]?\d)(?:st|nd|rd|th)?,? ((?:19|20)\d\d)\b", re.IGNORECASE)
_MY = re.compile(rf"\b{_MON},? ((?:19|20)\d\d)\b", re.IGNORECASE)
_AGE_BUCKETS = (
    (30, "<30 days"),
    (90, "30-90 days"),
    (365, "90 days-1 year"),
    (730, "1-2 years"),
    (1825, "2-5 years"),
    (10**9, ">5 years"),
)


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")[:3]]


def _safe(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def text_dates(text: str) -> list[tuple[date, int, int]]:
    """Full dates found in ``text`` with their char spans (see the module doc)."""
    found: list[tuple[date, int, int]] = []
    taken: list[tuple[int, int]] = []

    def add(d: date | None, s: int, e: int) -> None:
        if d is not None and not any(a <= s < b or a < e <= b for a, b in taken):
            found.append((d, s, e))
            taken.append((s, e))

    for m in _ISO.finditer(text):
        add(_safe(int(m[1]), int(m[2]), int(m[3])), m.start(), m.end())
    for m in _DMY.finditer(text):
        add(_safe(int(m[3]), _month(m[2]), int(m[1])), m.start(), m.end())
    for m in _MDY.finditer(text):
        add(_safe(int(m[3]), _month(m[1]), int(m[2])), m.start(), m.end())
    for m in _MY.finditer(text):
        add(_safe(int(m[2]), _month(m[1]), 1), m.start(), m.end())
    return found


def metadata_date(metadata: dict[str, Any]) -> datetime | None:
    for key in DATE_FIELDS:
        value = metadata.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, str) and value.strip():
            try:
                parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


class Staleness:
    name = "staleness"

    def __init__(self, stale_days: int, now: datetime) -> None:
        self.stale_days = stale_days
        self.now = now
        self.cutoff = now - timedelta(days=stale_days)
        self.ages: Counter[str] = Counter()
        self.findings: list[dict] = []
        self.stale = 0
        self.cap = 1000

    def observe(self, doc: AssessedDocument, i: int) -> None:
        modified = metadata_date(dict(doc.metadata)) or doc.modified_at
        reasons = []
        if modified is not None:
            age = (self.now - modified).days
            self.ages[next(label for limit, label in _AGE_BUCKETS if age < limit)] += 1
            if modified < self.cutoff:
                reasons.append(f"last modified {modified.date().isoformat()} ({age} days ago)")
        else:
            self.ages["unknown"] += 1
        dates = text_dates(doc.text) if doc.text else []
        newest = max(dates, default=None)
        loc = location(doc.uri)
        if newest is not None and newest[0] < self.cutoff.date():
            reasons.append(f"newest date in the text is {newest[0].isoformat()}")
            loc = location(doc.uri, newest[1], newest[2], excerpt(doc.text, newest[1], newest[2]))
        if not reasons:
            return
        self.stale += 1
        if len(self.findings) < self.cap:
            self.findings.append(
                finding(
                    "warning",
                    "staleness.old",
                    f"{doc.uri}: " + "; ".join(reasons),
                    [loc],
                    {
                        "modified_at": modified.isoformat() if modified else None,
                        "newest_text_date": newest[0].isoformat() if newest else None,
                    },
                )
            )

    def finish(self, ctx: Context) -> Section:
        labels = [label for _, label in _AGE_BUCKETS] + ["unknown"]
        advice = []
        if self.stale:
            advice.append(
                f"Review {self.stale} document(s) older than {self.stale_days} days: "
                "update, mark as archived, or remove them."
            )
        return Section(
            score=ratio_score(self.stale, ctx.documents),
            summary=f"{self.stale} document(s) older than {self.stale_days} days",
            advice=advice,
            findings=self.findings,
            charts=[
                chart(
                    "Documents by age (last modified)",
                    labels,
                    [self.ages.get(x, 0) for x in labels],
                    "documents",
                )
            ],
            figures={"stale_documents": self.stale, "stale_days": self.stale_days},
            weight=0.75,
        )
