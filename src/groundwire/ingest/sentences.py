"""Sentence segmentation: where one sentence ends and the next begins, as character spans.

Contract of ``sentence_spans(text)``: a list of ``(start, end)`` spans in text order, each
``text[start:end]`` a sentence with no leading or trailing whitespace, spans never overlap,
and whitespace between sentences belongs to no span. The rules:

* Line breaks are boundaries only where they look like one: a blank line, a line ending in
  sentence punctuation or a colon, a next line starting with a list marker, a heading mark
  or a capital after a short line. A wrapped line (the next line starts in lower case, or the
  line ends with a comma or hyphen) is *not* a boundary, so a sentence that a PDF or a
  hard-wrapped text file broke over two lines stays one sentence.
* Within those segments pysbd (a rule-based segmenter with the Golden Rules of English:
  abbreviations, decimals, URLs, quotations, ellipses) finds the boundaries. A piece that
  starts in lower case is joined to the sentence before it (``... e.g. this`` stays one).
* pysbd costs ~3 ms per 750 characters (130x a regex), so it is asked only where it can
  change the answer: a segment without ``.!?`` inside is one sentence; a segment whose every
  full stop follows an ordinary word (not a possible abbreviation: a word of three letters or
  fewer, a dotted one like ``e.g.``/``U.S.``, a common title) splits at each ``.!?`` followed
  by a capital or digit — where pysbd splits too. pysbd is imported on first use.
* Results are memoised (the answer flow splits the same passage repeatedly); each call
  returns a fresh list.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

_LIST_START = re.compile(r"^\s*(?:[-*•·‣◦▪–]\s|\d{1,3}[.)]\s|[a-zA-Z][.)]\s|#{1,6}\s|>\s|\|)")
_ENDS_SENTENCE = re.compile(r"[.!?:;。！？]['\"”’)\]]*\s*$")
_SOFT_END = re.compile(r"[,(/\-–]\s*$")
_INNER_STOP = re.compile(r"[.!?。！？](?=\S*\s+\S)")
_SHORT_LINE = 40
# A full stop, then space and a capital or digit: a boundary, unless the word before it may be
# an abbreviation (short, dotted, or a common title) — only then is pysbd asked (100x slower).
_PLAIN_END = re.compile(r"(?<=[.!?。！？])[\"')\]”’]*\s+(?=[\"'(\[“‘]?[A-Z0-9À-Ý])")
_MAYBE_ABBREVIATION = re.compile(
    r"(?:^|[\s(\[\"'])(?:[A-Za-z]{1,3}|(?:[A-Za-z]\.)+[A-Za-z]?|prof|corp|dept|univ|capt|"
    r"approx|sept|inc|ltd|ca)\.[\"')\]”’]*\s+[\"'(\[“‘]?[A-Z0-9À-Ý]", re.IGNORECASE)

_lock = threading.Lock()
_segmenter: Any = None


def _pysbd() -> Any:
    global _segmenter
    with _lock:
        if _segmenter is None:
            import pysbd  # type: ignore[import-untyped]

            _segmenter = pysbd.Segmenter(language="en", clean=False, char_span=False)
        return _segmenter


def _hard_break(previous: str, following: str) -> bool:
    """Whether the line break between these two (non-blank) lines ends a sentence."""
    if _LIST_START.match(following) or _ENDS_SENTENCE.search(previous):
        return True
    stripped = following.lstrip()
    if not stripped or stripped[0].islower() or _SOFT_END.search(previous):
        return False
    # A short line followed by a capitalised one: a heading, a title, an address line.
    return len(previous.strip()) < _SHORT_LINE


def _segments(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` between hard line breaks (see the module contract)."""
    spans: list[tuple[int, int]] = []
    start = 0
    lines = text.split("\n")
    offset = 0
    previous: str | None = None
    for line in lines:
        if previous is not None and (
            not line.strip() or not previous.strip() or _hard_break(previous, line)
        ):
            spans.append((start, offset - 1))
            start = offset
        previous = line
        offset += len(line) + 1
    spans.append((start, len(text)))
    return spans


def _split_segment(text: str, start: int, end: int) -> list[tuple[int, int]]:
    segment = text[start:end]
    if not segment.strip():
        return []
    if not _INNER_STOP.search(segment):
        return [_trim(text, start, end)]
    if not _MAYBE_ABBREVIATION.search(segment):
        return _plain_split(text, start, end)
    pieces = _pysbd().segment(segment)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        body = piece.strip()
        if not body:
            continue
        found = segment.find(body, cursor)
        if found < 0:  # the segmenter changed the text: keep the rest as one sentence
            spans.append(_trim(text, start + cursor, end))
            break
        piece_start, piece_end = start + found, start + found + len(body)
        if spans and body[0].islower():  # "... e.g. this stays" is one sentence
            spans[-1] = (spans[-1][0], piece_end)
        else:
            spans.append((piece_start, piece_end))
        cursor = found + len(body)
    return spans


def _plain_split(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split at every plain full stop (no abbreviation candidates in the segment)."""
    spans = []
    cursor = start
    for match in _PLAIN_END.finditer(text, start, end):
        spans.append(_trim(text, cursor, match.start()))
        cursor = match.end()
    spans.append(_trim(text, cursor, end))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@functools.lru_cache(maxsize=4096)
def _cached(text: str) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    for start, end in _segments(text):
        spans.extend(_split_segment(text, start, end))
    return tuple((s, e) for s, e in spans if e > s and text[s:e].strip())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` (see the module contract)."""
    return list(_cached(text))
