"""Conflicting versions: near-duplicate documents whose numbers, dates or amounts differ.

For each near-duplicate cluster, every member is compared with the cluster's first document
(at most ``MAX_PAIRS`` pairs per run): both texts are split into tokens (numbers with their
separators and unit/percent signs, words, punctuation), ``difflib.SequenceMatcher`` aligns the
two token sequences, and every changed region with a digit or a month name on either side is a
differing span. A pair with at least one such span is a conflict; its spans are reported side
by side (``details.diffs``: ``[{"a": "12%", "b": "15%"}]``).
Score: ``100 * (1 - 5 * documents in conflicts / documents)`` (floored at 0).
"""

from __future__ import annotations

import difflib
import re
from typing import TypedDict

from groundwire.assess.dimensions.base import Context
from groundwire.assess.report import Section, finding, location, ratio_score
from groundwire.assess.source import AssessedDocument
from groundwire.assess.textutil import MONTHS, excerpt

MAX_PAIRS = 5000
MAX_DIFFS = 10
_TOKEN = re.compile(r"[$€£¥]?\d[\d,.:/]*\d%?|[$€£¥]?\d%?|\w+|\S")
_MONTHS = frozenset(MONTHS)


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _numeric(tokens: list[tuple[str, int, int]]) -> bool:
    return any(any(c.isdigit() for c in t) or t.lower() in _MONTHS for t, _, _ in tokens)


class NumericDiff(TypedDict):
    a: str
    b: str
    a_start: int
    a_end: int
    b_start: int
    b_end: int


def numeric_diffs(a: str, b: str) -> list[NumericDiff]:
    """Changed regions of ``a`` vs ``b`` that involve numbers, dates or amounts, as
    ``{"a", "b", "a_start", "a_end", "b_start", "b_end"}`` (text and char offsets)."""
    ta, tb = _tokens(a), _tokens(b)
    matcher = difflib.SequenceMatcher(
        None, [t for t, _, _ in ta], [t for t, _, _ in tb], autojunk=False
    )
    diffs: list[NumericDiff] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        sa, sb = ta[i1:i2], tb[j1:j2]
        if not (_numeric(sa) or _numeric(sb)):
            continue
        a_start = sa[0][1] if sa else (ta[i1 - 1][2] if i1 else 0)
        a_end = sa[-1][2] if sa else a_start
        b_start = sb[0][1] if sb else (tb[j1 - 1][2] if j1 else 0)
        b_end = sb[-1][2] if sb else b_start
        diffs.append(
            {
                "a": a[a_start:a_end],
                "b": b[b_start:b_end],
                "a_start": a_start,
                "a_end": a_end,
                "b_start": b_start,
                "b_end": b_end,
            }
        )
    return diffs


class Conflicts:
    name = "conflicts"

    def observe(self, doc: AssessedDocument, i: int) -> None:
        """Nothing per document: conflicts are found among the near-duplicate clusters."""

    def finish(self, ctx: Context) -> Section:
        clusters: list[list[int]] = ctx.shared.get("near_clusters", [])
        findings = []
        involved: set[int] = set()
        pairs = 0
        for cluster in clusters:
            base = cluster[0]
            text_a = ctx.spool.get(base)
            for other in cluster[1:]:
                if pairs >= MAX_PAIRS:
                    break
                pairs += 1
                text_b = ctx.spool.get(other)
                diffs = numeric_diffs(text_a, text_b)
                if not diffs:
                    continue
                involved.update((base, other))
                d0 = diffs[0]
                a_loc = location(
                    ctx.uris[base],
                    d0["a_start"],
                    d0["a_end"],
                    excerpt(text_a, d0["a_start"], d0["a_end"]),
                )
                b_loc = location(
                    ctx.uris[other],
                    d0["b_start"],
                    d0["b_end"],
                    excerpt(text_b, d0["b_start"], d0["b_end"]),
                )
                shown = ", ".join(f"{d['a']!s} ≠ {d['b']!s}" for d in diffs[:3])
                findings.append(
                    finding(
                        "critical",
                        "conflict.version",
                        f"{ctx.uris[base]} and {ctx.uris[other]} are versions of the same text "
                        f"that disagree: {shown}",
                        [a_loc, b_loc],
                        {
                            "a": {"uri": ctx.uris[base], "excerpt": a_loc["excerpt"]},
                            "b": {"uri": ctx.uris[other], "excerpt": b_loc["excerpt"]},
                            "diffs": [{"a": d["a"], "b": d["b"]} for d in diffs[:MAX_DIFFS]],
                        },
                    )
                )
        advice = []
        if findings:
            advice.append(
                f"Resolve {len(findings)} conflicting version pair(s): decide which "
                "figures are current and retire the outdated copy."
            )
        return Section(
            score=ratio_score(len(involved), ctx.documents, weight=5.0),
            summary=(
                f"{len(findings)} pair(s) of near-duplicates disagree on numbers or dates "
                f"({pairs} pair(s) compared)"
            ),
            advice=advice,
            findings=findings,
            figures={
                "conflicting_pairs": len(findings),
                "documents_in_conflicts": len(involved),
                "pairs_compared": pairs,
            },
            weight=1.5,
        )
