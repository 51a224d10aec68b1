"""The deterministic follow-up rewriter (conversations/rewrite.py): which questions count as
follow-ups, what is carried over from the previous standalone query, and what is not."""

from __future__ import annotations

import pytest

from groundwire.conversations.rewrite import (
    METHOD_NONE,
    METHOD_RULES,
    content_words,
    entities,
    is_followup,
    rewrite_followup,
    standalone_chain,
)


def test_first_turn_and_standalone_questions_are_unchanged() -> None:
    assert rewrite_followup("How are notes encrypted at rest?", None).method == METHOD_NONE
    standalone = rewrite_followup("How long are deleted notes kept in the trash?",
                                  "How are notes encrypted at rest?")
    assert standalone.method == METHOD_NONE
    assert standalone.query == "How long are deleted notes kept in the trash?"


@pytest.mark.parametrize("question", [
    "When did it open?", "What is its population?", "Who coached them?",
    "and the refund policy?", "What about Enterprise?", "Why?", "what does that mean?",
])
def test_followups_are_detected(question: str) -> None:
    assert is_followup(question)


@pytest.mark.parametrize("question", [
    "Who said that the war ended in 1945?",  # "that" as a conjunction, not a pronoun
    "How long are deleted notes kept in the trash?",
    "Which port does the Quillmate installer open?",
])
def test_standalone_questions_are_not_followups(question: str) -> None:
    assert not is_followup(question)


def test_a_subject_pronoun_is_replaced_by_the_previous_entity() -> None:
    rewrite = rewrite_followup("When did it open?", "What year was the Eiffel Tower designed?")
    assert rewrite.method == METHOD_RULES
    assert rewrite.query == "When did Eiffel Tower open?"
    assert rewrite.added == ("Eiffel Tower",)


def test_a_possessive_becomes_the_entity_s() -> None:
    rewrite = rewrite_followup("What is its population?", "What is the capital of France?")
    assert rewrite.query == "What is France's population?"


def test_ellipsis_carries_the_subject_and_the_predicate() -> None:
    rewrite = rewrite_followup("What about Enterprise?",
                               "How much does the Team plan cost per user?")
    assert rewrite.query.startswith("What about Enterprise?")
    assert {"Team", "plan", "cost", "user"} <= set(rewrite.added)


def test_without_entities_the_content_words_are_carried() -> None:
    rewrite = rewrite_followup("and how long does it take?", "how do i install the server")
    assert {"install", "server"} <= set(rewrite.added)


def test_nothing_already_in_the_question_is_added_again() -> None:
    rewrite = rewrite_followup("What about the Team plan storage?",
                               "How much does the Team plan cost?")
    assert rewrite.query.count("Team") == 1 and rewrite.query.count("plan") == 1


def test_a_chain_of_followups_keeps_the_first_subject() -> None:
    chain = standalone_chain(["Which team won Super Bowl 50?", "Who was their coach?",
                              "And the MVP?"])
    assert [r.method for r in chain] == [METHOD_NONE, METHOD_RULES, METHOD_RULES]
    assert "Super Bowl 50" in chain[1].query
    assert "Super" in chain[2].query and "50" in chain[2].query


def test_entities_and_content_words() -> None:
    assert entities("When did Super Bowl 50 take place in the Bay of Pigs?") == [
        "Super Bowl 50", "Bay of Pigs"]
    assert content_words("What is the price of the Team plan?") == ["price", "Team", "plan"]


def test_existential_there_is_no_anaphor_and_is_never_replaced() -> None:
    assert not is_followup("There have been major changes in Amazon vegetation since 1900?")
    rewrite = rewrite_followup("Is there a discount there?", "What does the Quillmate Team plan "
                               "cost?")
    assert rewrite.query.startswith("Is there a discount there?")  # appended, not replaced
    assert rewrite.added == ("Quillmate Team",)
