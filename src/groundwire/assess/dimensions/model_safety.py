"""Model safety: instruction-like text aimed at models (prompt injection) and HTML text a
reader would not see (``groundwire.safety.injection``).

Every suspect document is a critical finding. Score: ``100 * (1 - 10 * suspects / documents)``
(floored at 0): a handful of poisoned documents is enough to mislead answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from groundwire.assess.dimensions.base import Context
from groundwire.assess.report import Section, chart, finding, location, ratio_score
from groundwire.assess.source import AssessedDocument

MAX_LOCATIONS = 5


HIDDEN_HTML_MIN_SCORE = 0.7


class ModelSafety:
    name = "model_safety"

    def __init__(
        self,
        find_instructions: Callable[[str], list[Any]] | None = None,
        find_hidden_html: Callable[[str], list[Any]] | None = None,
    ) -> None:
        if find_instructions is None or find_hidden_html is None:
            from groundwire.safety import injection

            find_instructions = find_instructions or injection.find_instructions
            find_hidden_html = find_hidden_html or injection.find_hidden_html
        self.find_instructions = find_instructions
        self.find_hidden_html = find_hidden_html
        self.kinds: Counter[str] = Counter()
        self.suspects = 0
        self.findings: list[dict] = []
        self.cap = 1000

    def observe(self, doc: AssessedDocument, i: int) -> None:
        found = list(self.find_instructions(doc.text)) if doc.text else []
        if doc.raw_html:
            # Ordinary pages hide menus and dialogs (score 0.4-0.5); only hiding tricks and
            # hidden text that reads as instructions (>= 0.7) are findings.
            found += [f for f in self.find_hidden_html(doc.raw_html)
                      if f.score >= HIDDEN_HTML_MIN_SCORE]
        if not found:
            return
        self.suspects += 1
        kinds = Counter(f.kind for f in found)
        self.kinds.update(kinds.keys())
        if len(self.findings) < self.cap:
            self.findings.append(
                finding(
                    "critical",
                    "injection." + kinds.most_common(1)[0][0],
                    f"{doc.uri}: {', '.join(sorted(kinds))} text that could steer a model: "
                    f"{found[0].excerpt!r}",
                    [location(doc.uri, f.start, f.end, f.excerpt) for f in found[:MAX_LOCATIONS]],
                    {
                        "kinds": dict(kinds),
                        "offsets_in": "raw_html" if "hidden_html" in kinds else "text",
                    },
                )
            )

    def finish(self, ctx: Context) -> Section:
        advice = []
        if self.suspects:
            advice.append(
                f"Inspect and clean {self.suspects} document(s) with instructions "
                "aimed at models or hidden HTML text before indexing them."
            )
        kinds = self.kinds.most_common()
        return Section(
            score=ratio_score(self.suspects, ctx.documents, weight=10.0),
            summary=f"{self.suspects} document(s) with prompt-injection or hidden text",
            advice=advice,
            findings=self.findings,
            charts=[
                chart(
                    "Suspect documents by kind",
                    [k for k, _ in kinds],
                    [v for _, v in kinds],
                    "documents",
                )
            ],
            figures={"injection_suspects": self.suspects},
            weight=1.5,
        )
