"""Tokenising regexes shared across the code, named by what they match.

Foundation layer: imports only the standard library. Every pattern is a ``str`` pattern, so
``\\w``, ``\\d`` and ``\\s`` are Unicode-aware (``re.UNICODE`` is the default): "café", "naïve"
and "東京" are words. None of them lower-cases; callers that compare words do that first.

Special-purpose expressions (IBANs, OCR tokens, number words, API keys, dates) stay with the
code that owns them; this module holds only the generic word and whitespace shapes.
"""

from __future__ import annotations

import re

WORD = re.compile(r"\w+")
"""A run of word characters (letters, digits, underscore): ``"A_1 b-2"`` -> ``A_1``, ``b``,
``2``. The tokens of the fake embedder and of assessment text normalisation."""

WORD2 = re.compile(r"\w\w+")
"""A word of two or more word characters (one-character tokens such as "a", "I" or a stray
digit are skipped): the terms answering and assessment compare between question and text."""

LETTER_WORD = re.compile(r"[^\W\d_]+")
"""A run of letters only (no digits, no underscore): ``"abc123def_x"`` -> ``abc``, ``def``,
``x``."""

LETTER = re.compile(r"[^\W\d_]")
"""One letter (a word character that is neither a digit nor an underscore)."""

WORD_WITH_APOSTROPHE = re.compile(r"[^\W_][\w'\-]*")
"""A word that may carry apostrophes and hyphens after its first character: ``don't``,
``state-of-the-art``, ``O'Brien``; it starts with a letter or digit, never ``'``, ``-`` or
``_``."""

NON_SPACE_RUN = re.compile(r"\S+")
"""A run of non-whitespace characters: a whitespace-separated token, punctuation included
(``"end." `` -> ``end.``)."""

WHITESPACE_RUN = re.compile(r"\s+")
"""A run of whitespace (spaces, tabs, newlines, Unicode spaces); ``WHITESPACE_RUN.sub(" ", t)``
collapses whitespace."""


def words(text: str) -> list[str]:
    """The :data:`WORD2` words of ``text`` in order (as written: not lower-cased)."""
    return WORD2.findall(text)
