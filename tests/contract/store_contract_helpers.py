"""Builders shared by the store contract suites (chunks, unit vectors, document writes)."""

from __future__ import annotations

import math
from typing import Any

from groundwire.domain import Chunk
from groundwire.stores.base import DocumentWrite

MODEL = "contract-model"
DIM = 8


def chunks(texts: list[str], header: str = "Doc") -> list[Chunk]:
    out, offset = [], 0
    for i, text in enumerate(texts):
        out.append(Chunk(i, text, header, ("Doc",), offset, offset + len(text), len(text.split())))
        offset += len(text) + 2
    return out


def axis(i: int, dim: int = DIM) -> list[float]:
    """The unit vector along axis ``i``."""
    return [1.0 if j == i else 0.0 for j in range(dim)]


def blend(weights: dict[int, float], dim: int = DIM) -> list[float]:
    """A unit vector with the given (axis: weight) components."""
    v = [weights.get(j, 0.0) for j in range(dim)]
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


def vectors(cs: list[Chunk], start: int = 0) -> dict[str, list[float]]:
    """Each chunk along its own axis (``start``, ``start + 1``, ...)."""
    return {c.content_hash: axis((start + i) % DIM) for i, c in enumerate(cs)}


def write(uri: str, cs: list[Chunk], **kw: Any) -> DocumentWrite:
    return DocumentWrite(uri=uri, title=uri, media_type=kw.pop("media_type", "text/plain"),
                         content_hash=kw.pop("content_hash", f"h-{uri}-{len(cs)}"),
                         pipeline_fingerprint="fp", chunks=cs, **kw)


async def commit(store: Any, index: str, uri: str, texts: list[str], start: int = 0,
                 **kw: Any) -> list[Chunk]:
    """Commit one document of ``texts`` to ``index`` (created if needed)."""
    await store.ensure_index(index)
    cs = chunks(texts)
    await store.commit_documents(index, [write(uri, cs, **kw)], vectors(cs, start), MODEL)
    return cs
