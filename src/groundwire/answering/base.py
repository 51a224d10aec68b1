"""The answerer port. The extractive answerer is the default and the last fallback; LLM
answerers (a later release) implement the same Protocol and slot into ``AnswerService``.

Contract: ``answer`` returns an ``Answer`` whose every ``[n]`` marker in ``text`` has a
``Citation`` with that ``n`` pointing at one of the given ``hits``; when the evidence is too weak
it returns ``abstained=True`` with no citations rather than guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from groundwire.domain import Answer, Hit


class Answerer(Protocol):
    name: str

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer: ...
