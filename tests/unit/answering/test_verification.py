from __future__ import annotations

import pytest

from groundwire.answering.verification import (
    UNSUPPORTED_FLAG,
    CitationVerifier,
    answer_sentences,
    apply_policy,
    cited_numbers,
    strip_markers,
)
from groundwire.embedding.fake import FakeEmbedder
from groundwire.errors import InvalidRequest

PASSAGES = [
    "The Titanic sank in April 1912 after striking an iceberg in the North Atlantic. "
    "About 1,500 people died in the sinking.",
    "The Eiffel Tower was completed in 1889 in Paris. It is three hundred metres tall.",
]


@pytest.fixture
def verifier() -> CitationVerifier:
    return CitationVerifier(FakeEmbedder(64), threshold=0.6)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [("a [1].", [1]), ("a [1][2].", [1, 2]), ("a [1, 2].", [1, 2]), ("a [1,2].", [1, 2]),
     ("a [ 3 ] b [2,4]", [3, 2, 4]), ("no markers [x] here", [])],
)
def test_marker_forms(text: str, numbers: list[int]) -> None:
    assert cited_numbers(text) == numbers


def test_strip_markers_leaves_clean_prose() -> None:
    assert strip_markers("The Titanic sank in 1912 [1, 2]. ") == "The Titanic sank in 1912."


def test_a_marker_after_the_full_stop_belongs_to_the_sentence_before() -> None:
    text = "The Titanic sank in 1912. [1] About 1,500 people died. [1][2]"
    spans = answer_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "The Titanic sank in 1912. [1]", "About 1,500 people died. [1][2]"]


def test_sentence_spans_cover_the_answer_text(verifier: CitationVerifier) -> None:
    text = "The Titanic sank in April 1912 [1]. The Eiffel Tower was completed in 1889 [2]."
    result = verifier.verify(text, PASSAGES)
    assert [c.cited for c in result.sentences] == [(1,), (2,)]
    for check in result.sentences:
        assert text[check.start:check.end] == check.text
    assert result.unsupported == () and result.groundedness == 1.0


def test_supported_sentences_and_per_citation(verifier: CitationVerifier) -> None:
    text = ("The Titanic sank in April 1912 after striking an iceberg [1]. "
            "About 1500 people died in the sinking [1, 2].")
    result = verifier.verify(text, PASSAGES)
    assert all(c.supported for c in result.sentences)
    assert result.sentences[1].cited == (1, 2)  # "1500" matches "1,500"
    assert set(result.per_citation) == {1, 2}
    assert result.per_citation[1] >= 0.6 > result.per_citation[2]
    assert result.per_citation[1] == max(c.support for c in result.sentences)


def test_a_changed_number_makes_the_sentence_unsupported(verifier: CitationVerifier) -> None:
    good = verifier.verify("The Titanic sank in April 1912 after striking an iceberg [1].",
                           PASSAGES)
    bad = verifier.verify("The Titanic sank in April 1921 after striking an iceberg [1].",
                          PASSAGES)
    assert good.sentences[0].supported
    assert not bad.sentences[0].supported
    assert bad.unsupported == (0,)
    assert bad.sentences[0].support < good.sentences[0].support


def test_number_must_appear_in_a_cited_passage_not_just_any_passage(
    verifier: CitationVerifier,
) -> None:
    # 1889 is in passage 2, but the sentence only cites passage 1.
    result = verifier.verify("The Titanic sank in April 1889 after striking an iceberg [1].",
                             PASSAGES)
    assert not result.sentences[0].supported
    both = verifier.verify("The Titanic sank in April 1912 and the tower opened in 1889 [1][2].",
                           PASSAGES)
    assert both.sentences[0].cited == (1, 2)
    assert both.sentences[0].supported or both.sentences[0].support > 0.0


def test_number_words_equal_digits(verifier: CitationVerifier) -> None:
    result = verifier.verify("The Eiffel Tower is 3 hundred metres tall [2].", PASSAGES)
    assert result.sentences[0].supported


def test_a_swapped_name_makes_the_sentence_unsupported(verifier: CitationVerifier) -> None:
    result = verifier.verify(
        "The Titanic sank in April 1912 after striking an iceberg in the South Atlantic [1].",
        PASSAGES)
    assert not result.sentences[0].supported


def test_invalid_citations_are_reported_and_ignored(verifier: CitationVerifier) -> None:
    text = ("The Titanic sank in April 1912 after striking an iceberg [1, 7]. "
            "The Eiffel Tower was completed in 1889 in Paris [9].")
    result = verifier.verify(text, PASSAGES)
    assert result.invalid_citations == (7, 9)
    assert result.sentences[0].cited == (1,) and result.sentences[0].supported
    # Citing only a passage that does not exist counts as no citation; the sentence is a
    # verbatim quote of passage 2, so the strong uncited rule still accepts it.
    assert result.sentences[1].cited == ()
    assert result.sentences[1].supported
    assert 7 not in result.per_citation and 9 not in result.per_citation


def test_uncited_claims_need_very_strong_support(verifier: CitationVerifier) -> None:
    result = verifier.verify(
        "The Eiffel Tower was completed in 1889 in Paris. Paris also hosts many museums.",
        PASSAGES)
    first, second = result.sentences
    assert first.cited == () and first.supported  # verbatim
    assert second.needs_citation and not second.supported
    assert result.unsupported == (1,)


def test_no_claim_sentences_are_not_counted(verifier: CitationVerifier) -> None:
    text = ("Here is what I found:\nThe Titanic sank in April 1912 [1]. "
            "I don't know how tall the ship was. The Eiffel Tower was finished in 1999 [2].")
    result = verifier.verify(text, PASSAGES)
    assert [c.needs_citation for c in result.sentences] == [False, True, False, True]
    assert result.groundedness == pytest.approx(1 / 2)
    assert result.unsupported == (3,)


def test_groundedness_is_the_share_of_supported_claims(verifier: CitationVerifier) -> None:
    text = ("The Titanic sank in April 1912 after striking an iceberg [1]. "
            "About 1,500 people died in the sinking [1]. "
            "The Eiffel Tower was completed in 1777 in Paris [2].")
    result = verifier.verify(text, PASSAGES)
    assert result.groundedness == pytest.approx(2 / 3)
    assert result.unsupported == (2,)
    assert verifier.verify("I don't know.", PASSAGES).groundedness == 1.0
    assert verifier.verify("", PASSAGES).sentences == ()


def test_drop_removes_unsupported_sentences_and_invalid_markers(
    verifier: CitationVerifier,
) -> None:
    text = ("The Titanic sank in April 1912 after striking an iceberg [1, 5]. "
            "The Titanic sank in 1921 [1]. "
            "The Eiffel Tower was completed in 1889 in Paris [2][6].")
    result = verifier.verify(text, PASSAGES)
    assert result.unsupported == (1,)
    assert apply_policy(text, result, "drop") == (
        "The Titanic sank in April 1912 after striking an iceberg [1]. "
        "The Eiffel Tower was completed in 1889 in Paris [2].")


def test_drop_of_everything_gives_empty_text(verifier: CitationVerifier) -> None:
    text = "The Titanic sank in 1921 [1]."
    assert apply_policy(text, verifier.verify(text, PASSAGES), "drop") == ""


def test_flag_marks_unsupported_sentences_and_keeps_the_rest(
    verifier: CitationVerifier,
) -> None:
    text = "The Titanic sank in 1921 [1]. The Eiffel Tower was completed in 1889 in Paris [2]."
    result = verifier.verify(text, PASSAGES)
    flagged = apply_policy(text, result, "flag")
    assert flagged == (f"The Titanic sank in 1921 [1]. {UNSUPPORTED_FLAG} "
                       "The Eiffel Tower was completed in 1889 in Paris [2].")
    assert apply_policy(text, result, "off") == text


def test_unknown_policy_and_bad_threshold_are_rejected(verifier: CitationVerifier) -> None:
    text = "The Titanic sank in 1921 [1]."
    with pytest.raises(InvalidRequest):
        apply_policy(text, verifier.verify(text, PASSAGES), "shout")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        CitationVerifier(None, threshold=1.5)


def test_works_without_an_embedder() -> None:
    verifier = CitationVerifier(None, threshold=0.6)
    result = verifier.verify(
        "The Titanic sank in April 1912 after striking an iceberg [1]. "
        "Penguins live in Antarctica [1].", PASSAGES)
    assert [c.supported for c in result.sentences] == [True, False]


def test_batches_embeddings_into_one_call() -> None:
    calls: list[int] = []

    class Counting(FakeEmbedder):
        def encode_queries(self, texts):  # type: ignore[no-untyped-def]
            calls.append(len(texts))
            return super().encode_queries(texts)

    verifier = CitationVerifier(Counting(32))
    verifier.verify("The Titanic sank in 1912 [1]. About 1,500 people died [1]. "
                    "The tower is in Paris [2].", PASSAGES)
    assert len(calls) == 1
