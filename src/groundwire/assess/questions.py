"""Reading a question file: one question per line, or BEIR ``queries.jsonl`` (``text``)."""

from __future__ import annotations

import json
from pathlib import Path

from groundwire.errors import InvalidRequest


def read_questions(path: Path) -> list[str]:
    """Questions from ``path``: a ``.jsonl`` file (or one whose first line is a JSON object)
    is read as BEIR queries (the ``text`` field, else ``query``/``question``); otherwise each
    non-blank line is a question. Raises ``InvalidRequest`` when unreadable or empty."""
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"cannot read questions file {path}: {exc}") from exc
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    questions: list[str] = []
    if lines and lines[0].startswith("{"):
        for number, line in enumerate(lines, 1):
            try:
                value = json.loads(line)
            except ValueError as exc:
                raise InvalidRequest(f"{path}: line {number}: malformed JSON") from exc
            text = next(
                (
                    value.get(k)
                    for k in ("text", "query", "question")
                    if isinstance(value, dict) and isinstance(value.get(k), str)
                ),
                None,
            )
            if text and text.strip():
                questions.append(text.strip())
    else:
        questions = lines
    if not questions:
        raise InvalidRequest(f"no questions found in {path}")
    return questions
