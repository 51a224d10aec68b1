"""Built-in embedder factories: entry points of the ``groundwire.embedders`` group in
``pyproject.toml`` (name: ``embedding.provider``), found through ``groundwire.registry`` exactly
as a third-party embedder is. ``BUILTIN_EMBEDDERS`` lists the same factories (tests check it
against the entry points)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

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



def _onnx(settings: EmbeddingSettings, quantization: Literal["int8", "fp32"]) -> Embedder:
    from groundwire.embedding.model_files import default_cache_dir
    from groundwire.embedding.onnx import OnnxEmbedder

    return OnnxEmbedder(
        settings.model,
        Path(settings.model_path) if settings.model_path else None,
        cache_dir=default_cache_dir(),
        quantization=quantization,
        batch_size=settings.batch_size,
        query_threads=settings.query_threads,
        ingest_threads=settings.ingest_threads,
        max_tokens=settings.max_seq_tokens,
    )


def onnx(settings: EmbeddingSettings) -> Embedder:
    """ONNX Runtime, int8 dynamic per-channel quantisation; model id ``<model>@onnx-int8``.
    Serving needs no torch; the one-time export does (embedding/onnx.py)."""
    return _onnx(settings, "int8")


def onnx_fp32(settings: EmbeddingSettings) -> Embedder:
    """ONNX Runtime without quantisation; model id ``<model>@onnx-fp32``."""
    return _onnx(settings, "fp32")


BUILTIN_EMBEDDERS: dict[str, Callable[[EmbeddingSettings], Any]] = {
    "sentence-transformers": sentence_transformers,
    "fake": fake,
    "onnx": onnx,
    "onnx-fp32": onnx_fp32,
}
