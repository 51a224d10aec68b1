"""Retrieved passages screened for prompt injection before they go into an LLM prompt.

Contract::

    screen_passages(hits) -> Screened(prompt_hits, flagged)

Every passage is run through ``safety.injection.find_instructions`` (the detector ``assess``
uses on whole documents). What happens to a passage with a finding depends on its best score:

* ``>= EXCLUDE_SCORE`` (0.7: overrides, system-prompt extraction, exfiltration, role tags):
  **excluded** — the model never sees it. When every passage is excluded no upstream call is
  made and the answer is the extractive one (which quotes, never obeys), ``degraded`` with
  reason ``llm.passages_flagged``.
* ``MIN_SCORE`` .. ``EXCLUDE_SCORE`` (weaker phrase matches): **down-weighted** — kept, but
  moved after every clean passage, so it is numbered last and is the first cut by the
  prompt's token budget.

Either way the passage is listed in ``Answer.flagged`` (``chunk_id``, ``document_id``,
``uri``, ``rank`` among the retrieved passages, ``kind``, ``score``, ``action``: "excluded" or
"down-weighted"); the matched text itself is not repeated there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from groundwire.domain import Hit
from groundwire.safety.injection import find_instructions

EXCLUDE_SCORE = 0.7


@dataclass(frozen=True, slots=True)
class Screened:
    prompt_hits: tuple[Hit, ...]  # what may go into the prompt, in prompt order
    flagged: tuple[Mapping[str, Any], ...]


def screen_passages(hits: Sequence[Hit]) -> Screened:
    clean: list[Hit] = []
    weak: list[Hit] = []
    flagged: list[Mapping[str, Any]] = []
    for rank, hit in enumerate(hits, 1):
        findings = find_instructions(f"{hit.title}\n{hit.text}" if hit.title else hit.text)
        if not findings:
            clean.append(hit)
            continue
        best = max(findings, key=lambda f: f.score)
        excluded = best.score >= EXCLUDE_SCORE
        if not excluded:
            weak.append(hit)
        flagged.append({
            "chunk_id": hit.chunk_id, "document_id": hit.document_id, "uri": hit.uri,
            "rank": rank, "kind": best.kind, "score": round(best.score, 3),
            "action": "excluded" if excluded else "down-weighted",
        })
    return Screened(tuple(clean + weak), tuple(flagged))
