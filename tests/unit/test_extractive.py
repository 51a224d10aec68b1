from __future__ import annotations

import re

from groundwire.answering.extractive import ExtractiveAnswerer
from groundwire.domain import Hit
from groundwire.embedding.fake import FakeEmbedder


def hit(cid: int, text: str, uri: str) -> Hit:
    return Hit(cid, cid, uri, uri, text, (), 0, len(text), 1.0 / cid)


HITS = [
    hit(1, "The office opens at nine in the morning. Parking is free for visitors.", "a.md"),
    hit(2, "Lunch is served in the cafeteria from noon. The cafeteria closes at two.", "b.md"),
]


def test_answers_with_the_supporting_sentence_and_a_valid_citation() -> None:
    answerer = ExtractiveAnswerer(FakeEmbedder(64), max_sentences=1, min_support=0.2)
    answer = answerer.answer("When does the cafeteria serve lunch?", HITS)
    assert not answer.abstained
    assert "Lunch is served in the cafeteria from noon." in answer.text
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations} == {1}
    assert answer.citations[0].hit.uri == "b.md"
    assert answer.citations[0].quote in answer.citations[0].hit.text


def test_abstains_when_nothing_supports_the_question() -> None:
    answerer = ExtractiveAnswerer(FakeEmbedder(64), min_support=0.35)
    answer = answerer.answer("quantum chromodynamics gluon confinement", HITS)
    assert answer.abstained
    assert answer.citations == ()
    assert answer.hits  # what was read is still reported


def test_no_passages_abstains() -> None:
    answer = ExtractiveAnswerer(FakeEmbedder(64)).answer("anything", [])
    assert answer.abstained and answer.confidence == 0.0


def test_citation_numbers_follow_first_use() -> None:
    answerer = ExtractiveAnswerer(FakeEmbedder(64), max_sentences=3, min_support=0.1)
    answer = answerer.answer("office cafeteria lunch opens", HITS)
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert numbers and numbers[0] == 1
    assert sorted({c.n for c in answer.citations}) == list(range(1, len(answer.citations) + 1))
