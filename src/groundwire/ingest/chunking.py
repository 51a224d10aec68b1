"""Structure-aware chunking: sections by heading, packed to a token budget, with overlap.

Contract: every chunk's ``text`` equals ``doc.text[char_start:char_end]`` (a contiguous span of
the cleaned document text, so citations can be highlighted exactly); a chunk never crosses a
heading; its header is ``title › heading › subheading``; the body stays within the budget
(``max_tokens``, shrunk so header + body fit the embedder's window) except that a single
word longer than the budget is kept whole. Consecutive chunks of one section share up to
``overlap_tokens`` of trailing sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from groundwire.domain import Chunk, ParsedDocument
from groundwire.ingest.sentences import sentence_spans
from groundwire.text import NON_SPACE_RUN

TokenCounter = Callable[[str], int]

MIN_BODY_TOKENS = 32


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    tokens: int


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of ``text``, whitespace between sentences excluded.

    A segmenter's judgement, not a newline split: wrapped lines stay one sentence; see
    ``groundwire.ingest.sentences`` for the rules."""
    return sentence_spans(text)


class Chunker:
    def __init__(
        self,
        count_tokens: TokenCounter,
        *,
        max_tokens: int,
        overlap_tokens: int,
        window_tokens: int,
    ) -> None:
        self._count = count_tokens
        self._max = max_tokens
        self._overlap = overlap_tokens
        self._window = window_tokens

    def chunk(self, doc: ParsedDocument) -> list[Chunk]:
        chunks: list[Chunk] = []
        for path, units in self._sections(doc):
            header = " › ".join(p for p in (doc.title, *path) if p)
            header_tokens = self._count(header) + 2 if header else 0
            budget = min(self._max, max(MIN_BODY_TOKENS, self._window - header_tokens))
            for first, last, tokens in self._pack(units, budget):
                chunks.append(
                    Chunk(
                        position=len(chunks),
                        text=doc.text[units[first].start : units[last].end],
                        header=header,
                        heading_path=path,
                        char_start=units[first].start,
                        char_end=units[last].end,
                        token_count=tokens,
                    )
                )
        return chunks

    def _sections(self, doc: ParsedDocument) -> Iterator[tuple[tuple[str, ...], list[_Unit]]]:
        """Yield (heading path, sentence-or-smaller units) per section, offsets in doc.text."""
        stack: list[tuple[int, str]] = []
        units: list[_Unit] = []
        offset = 0
        for block in doc.blocks:
            if block.is_heading:
                if units:
                    yield tuple(t for _, t in stack), units
                    units = []
                while stack and stack[-1][0] >= block.level:
                    stack.pop()
                stack.append((block.level, block.text))
            else:
                units.extend(self._units(block.text, offset))
            offset += len(block.text) + 2  # blocks are joined with "\n\n"
        if units:
            yield tuple(t for _, t in stack), units

    def _units(self, text: str, offset: int) -> Iterator[_Unit]:
        for start, end in split_sentences(text):
            sentence = text[start:end]
            tokens = self._count(sentence)
            if tokens <= self._max:
                yield _Unit(offset + start, offset + end, tokens)
                continue
            # An over-long sentence (tables, code, run-on text) is cut at word boundaries.
            words = [(m.start(), m.end()) for m in NON_SPACE_RUN.finditer(sentence)]
            piece_start, piece_tokens, piece_end = words[0][0], 0, words[0][1]
            for ws, we in words:
                t = self._count(sentence[ws:we])
                if piece_tokens and piece_tokens + t > self._max:
                    yield _Unit(offset + start + piece_start, offset + start + piece_end,
                                piece_tokens)
                    piece_start, piece_tokens = ws, 0
                piece_tokens += t
                piece_end = we
            yield _Unit(offset + start + piece_start, offset + start + piece_end, piece_tokens)

    def _pack(self, units: list[_Unit], budget: int) -> Iterator[tuple[int, int, int]]:
        """Greedy packing into (first, last, tokens) with sentence-level overlap."""
        first = 0
        while first < len(units):
            last, tokens = first, units[first].tokens
            while last + 1 < len(units) and tokens + units[last + 1].tokens <= budget:
                last += 1
                tokens += units[last].tokens
            yield first, last, tokens
            if last + 1 >= len(units):
                return
            # Next chunk starts with trailing sentences worth <= overlap tokens (never all of
            # this chunk, so packing always advances).
            nxt, carried = last + 1, 0
            while (
                nxt - 1 > first
                and carried + units[nxt - 1].tokens <= self._overlap
                and carried + units[nxt - 1].tokens + units[last + 1].tokens <= budget
            ):
                nxt -= 1
                carried += units[nxt].tokens
            first = nxt
