"""Text of workflow events: the question an event asks, and how far a reviewer moved a draft.

* ``question_from(subject, body)``: the subject, then the body without quoted history (from
  the first ``On ... wrote:`` line, ``-----Original Message-----`` or ``From: ...`` header
  block on; every line starting with ``>``) and without a signature (from a ``-- `` line or
  a ``Sent from my ...`` line on). Blank runs collapse; the result is trimmed to
  ``max_chars``. A subject repeated as the body's first line is kept once.
* ``edit_distance(draft, sent)``: word-level Levenshtein distance divided by the longer
  text's word count: 0.0 identical, 1.0 nothing in common.
"""

from __future__ import annotations

import re

_QUOTE_HEADER = re.compile(
    r"^\s*(On\s.+\bwrote:\s*$|-{2,}\s*Original Message\s*-{2,}|From:\s.+)", re.IGNORECASE)
_SIGNATURE = re.compile(r"^(--\s*$|-- |Sent from my\s)", re.IGNORECASE)
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv)\s*:\s*)+", re.IGNORECASE)


def strip_reply_noise(body: str) -> str:
    """``body`` without quoted history and signature (see the module docstring)."""
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _QUOTE_HEADER.match(line) or _SIGNATURE.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    text = "\n".join(kept).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def question_from(subject: str, body: str, *, max_chars: int = 2000) -> str:
    """The question an event asks (see the module docstring); '' when it has no text."""
    subject = _SUBJECT_PREFIX.sub("", subject or "").strip()
    text = strip_reply_noise(body or "")
    if subject and text.splitlines()[:1] == [subject]:
        text = text[len(subject):].lstrip()
    question = f"{subject}\n\n{text}".strip() if subject else text
    return question[:max_chars].strip()


def edit_distance(draft: str, sent: str) -> float:
    """Normalized word-level Levenshtein distance between ``draft`` and ``sent`` (0..1)."""
    a, b = draft.split(), sent.split()
    if not a and not b:
        return 0.0
    previous = list(range(len(b) + 1))
    for i, word in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (word != other)))
        previous = current
    return round(previous[-1] / max(len(a), len(b)), 4)
