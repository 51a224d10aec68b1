"""Text helpers shared by the assessment dimensions: normalisation, words, shingles, masks."""

from __future__ import annotations

import hashlib

from groundwire.minhash import normalise, shingles
from groundwire.text import WORD

__all__ = ["MONTHS", "excerpt", "normalise", "shingles", "text_digest", "words"]


def text_digest(normalised: str) -> bytes:
    """A 16-byte digest of normalised text (blake2b), the exact-duplicate key."""
    return hashlib.blake2b(normalised.encode("utf-8"), digest_size=16).digest()


def words(text: str) -> list[str]:
    return WORD.findall(text)


def excerpt(text: str, start: int, end: int, context: int = 60) -> str:
    """``text[start:end]`` with up to ``context`` characters either side, on one line."""
    lo, hi = max(0, start - context), min(len(text), end + context)
    snippet = " ".join(text[lo:hi].split())
    return ("…" if lo else "") + snippet + ("…" if hi < len(text) else "")


_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")
MONTHS: dict[str, int] = {
    **{name: i for i, name in enumerate(_MONTH_NAMES, 1)},
    **{name[:3]: i for i, name in enumerate(_MONTH_NAMES, 1)},
    "sept": 9,
}
"""English month names and abbreviations -> month number (used to find dates in text)."""
