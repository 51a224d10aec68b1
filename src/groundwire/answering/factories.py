"""Built-in answerer factories, entry points of the ``groundwire.answerers`` group (see
``groundwire.registry``): ``(embedder: Embedder, settings: AnswerSettings) -> Answerer``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from groundwire.answering.base import Answerer
    from groundwire.embedding.base import Embedder
    from groundwire.settings import AnswerSettings


def extractive(embedder: Embedder, settings: AnswerSettings) -> Answerer:
    """``extractive``: sentences of the passages that best support the question, cited."""
    from groundwire.answering.extractive import ExtractiveAnswerer

    return ExtractiveAnswerer(
        embedder,
        max_sentences=settings.max_sentences,
        min_support=settings.min_support,
        passages=settings.passages,
    )
