"""Access: documents without permission metadata (the rule is
``groundwire.assess.access.permission_metadata``).

Score: the share of documents that carry permission metadata (0 when none do).
"""

from __future__ import annotations

from collections import Counter

from groundwire.assess.dimensions.base import Context
from groundwire.assess.report import Section, chart, finding, location, ratio_score
from groundwire.assess.source import AssessedDocument


class Access:
    name = "access"

    def __init__(self) -> None:
        self.missing = 0
        self.with_acl = 0
        self.by_source: Counter[str] = Counter()
        self.findings: list[dict] = []
        self.cap = 1000

    def observe(self, doc: AssessedDocument, i: int) -> None:
        if doc.permissions:
            self.with_acl += 1
            return
        self.missing += 1
        self.by_source[doc.container] += 1
        if len(self.findings) < self.cap:
            self.findings.append(
                finding(
                    "warning",
                    "access.no_permissions",
                    f"{doc.uri}: no permission metadata (everyone who can search will see it)",
                    [location(doc.uri)],
                )
            )

    def finish(self, ctx: Context) -> Section:
        advice = []
        if self.missing:
            advice.append(
                f"Add permission metadata to {self.missing} document(s): a `permissions`, "
                "`acl`, `allowed_users` or `allowed_groups` field (record or front matter) or "
                "a `<file>.acl.json` sidecar."
            )
        top = self.by_source.most_common(15)
        return Section(
            score=ratio_score(self.missing, ctx.documents),
            summary=f"{self.missing} of {ctx.documents} document(s) have no permission metadata",
            advice=advice,
            findings=self.findings,
            charts=[
                chart(
                    "Documents without permissions per source (top 15)",
                    [k for k, _ in top],
                    [v for _, v in top],
                    "documents",
                )
            ],
            figures={"no_acl_documents": self.missing, "acl_documents": self.with_acl},
            weight=0.75,
        )
