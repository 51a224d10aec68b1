"""Built-in embedder factories: entry points of the ``groundwire.embedders`` group in
``pyproject.toml`` (name: ``embedding.provider``), found through ``groundwire.registry`` exactly
as a third-party embedder is. ``BUILTIN_EMBEDDERS`` lists the same factories (tests check it
against the entry points)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from groundwire.embedding.base import Embedder
from groundwire.settings import EmbeddingSettings


def sentence_transformers(settings: EmbeddingSettings) -> Embedder:
    from groundwire.embedding.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        settings.model,
        Path(settings.model_path) if settings.model_path else None,
        batch_size=settings.batch_size,
        query_threads=settings.query_threads,
        ingest_threads=settings.ingest_threads,
        max_tokens=settings.max_seq_tokens,
        backend=settings.backend,
    )


def fake(settings: EmbeddingSettings) -> Embedder:
    """Hash-seeded vectors: unit tests and plumbing demos only, no semantic quality."""
    import re

    from groundwire.embedding.fake import FakeEmbedder

    # embedding.model "fake-<dim>" picks the dimension (and so the model id): tests of model
    # switches use two fake models.
    sized = re.fullmatch(r"fake-(\d+)", settings.model)
    dimension = int(sized.group(1)) if sized else 32
    return FakeEmbedder(dimension=dimension, max_tokens=settings.max_seq_tokens)


BUILTIN_EMBEDDERS: dict[str, Callable[[EmbeddingSettings], Any]] = {
    "sentence-transformers": sentence_transformers,
    "fake": fake,
}
