"""Text helpers shared by the assessment dimensions: normalisation, words, shingles, masks."""

from __future__ import annotations

import hashlib
import unicodedata

from groundwire.text import WHITESPACE_RUN, WORD


def normalise(text: str) -> str:
    """The normal form used for duplicate detection: Unicode NFKC, case-folded, every run of
    whitespace collapsed to one space, ends trimmed. Two documents are exact duplicates when
    their cleaned texts have the same normal form (titles are not part of it)."""
    return WHITESPACE_RUN.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_digest(normalised: str) -> bytes:
    """A 16-byte digest of normalised text (blake2b), the exact-duplicate key."""
    return hashlib.blake2b(normalised.encode("utf-8"), digest_size=16).digest()


def words(text: str) -> list[str]:
    return WORD.findall(text)


def shingles(normalised: str, size: int = 3) -> set[bytes]:
    """Word ``size``-shingles of normalised text, UTF-8 encoded; a text shorter than ``size``
    words gives one shingle of all its words."""
    tokens = WORD.findall(normalised)
    if len(tokens) < size:
        return {" ".join(tokens).encode("utf-8")} if tokens else set()
    return {" ".join(tokens[i : i + size]).encode("utf-8") for i in range(len(tokens) - size + 1)}


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
