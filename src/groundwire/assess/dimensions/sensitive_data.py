"""Sensitive data: PII by type (``groundwire.safety.pii.PiiDetector``: email, phone, payment
card with Luhn, IBAN, national ids, IP addresses, secrets/API keys), masked samples only.

A document with a payment card, IBAN, national id or secret is a critical finding, other PII
a warning. Score: ``100 * (1 - (critical documents * 2 + other PII documents) / documents)``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from groundwire.assess.dimensions.base import Context
from groundwire.assess.report import Section, chart, finding, location, ratio_score
from groundwire.assess.source import AssessedDocument

CRITICAL_KINDS = frozenset({"payment_card", "iban", "national_id", "secret"})
MAX_LOCATIONS = 5


class SensitiveData:
    name = "sensitive_data"

    def __init__(self, detector: Any | None = None) -> None:
        if detector is None:
            from groundwire.safety.pii import PiiDetector

            detector = PiiDetector()
        self.detector = detector
        self.by_kind: Counter[str] = Counter()  # documents per kind
        self.matches: Counter[str] = Counter()
        self.findings: list[dict] = []
        self.documents = 0
        self.critical = 0
        self.cap = 1000

    def observe(self, doc: AssessedDocument, i: int) -> None:
        if not doc.text:
            return
        found = self.detector.find(doc.text)
        if not found:
            return
        kinds = Counter(f.kind for f in found)
        self.documents += 1
        self.matches.update(kinds)
        self.by_kind.update(kinds.keys())
        critical = bool(CRITICAL_KINDS & kinds.keys())
        self.critical += critical
        if len(self.findings) < self.cap:
            shown = ", ".join(f"{k} ×{v}" for k, v in kinds.most_common())
            self.findings.append(
                finding(
                    "critical" if critical else "warning",
                    "pii." + kinds.most_common(1)[0][0] if len(kinds) == 1 else "pii.mixed",
                    f"{doc.uri}: {len(found)} personal/sensitive value(s): {shown}",
                    [location(doc.uri, f.start, f.end, f.masked) for f in found[:MAX_LOCATIONS]],
                    {"kinds": dict(kinds), "samples": {f.kind: f.masked for f in found}},
                )
            )

    def finish(self, ctx: Context) -> Section:
        advice = []
        if self.critical:
            advice.append(
                f"Remove or redact secrets, card numbers, IBANs and national ids in "
                f"{self.critical} document(s) before indexing; rotate leaked keys."
            )
        if self.documents > self.critical:
            advice.append(
                "Redact personal contact data (emails, phones, IPs) or restrict "
                "access to the documents that need it."
            )
        kinds = self.by_kind.most_common()
        return Section(
            score=ratio_score(self.critical * 2 + (self.documents - self.critical), ctx.documents),
            summary=(
                f"{self.documents} document(s) contain PII "
                f"({self.critical} with secrets or financial/national ids)"
            ),
            advice=advice,
            findings=self.findings,
            charts=[
                chart(
                    "Documents by PII type",
                    [k for k, _ in kinds],
                    [v for _, v in kinds],
                    "documents",
                )
            ],
            figures={
                "pii_documents": self.documents,
                "critical_documents": self.critical,
                **{f"matches_{k}": v for k, v in self.matches.items()},
            },
            weight=1.5,
        )
