"""The question a workflow event asks: quoted history and signatures removed."""

from __future__ import annotations

from groundwire.workflows.text import edit_distance, question_from, strip_reply_noise

MAIL = """\
How do I get a refund for my annual plan?
I bought it last week.

> Thanks for your purchase!
> Your plan renews yearly.

--
Jane Doe | Example Corp
+1 555 0100
"""

THREAD = """\
Does the Team plan include single sign-on?

On Mon, 1 Jan 2024 at 10:00, Support <help@example.com> wrote:
> Hello, how can we help?
> Regards
"""


def test_quoted_lines_and_signature_are_removed() -> None:
    text = strip_reply_noise(MAIL)
    assert text == "How do I get a refund for my annual plan?\nI bought it last week."


def test_history_after_on_wrote_is_removed() -> None:
    assert strip_reply_noise(THREAD) == "Does the Team plan include single sign-on?"


def test_sent_from_my_and_original_message_end_the_text() -> None:
    assert strip_reply_noise("Is there a discount?\n\nSent from my phone") == \
        "Is there a discount?"
    assert strip_reply_noise("Ports?\n-----Original Message-----\nFrom: x\nold") == "Ports?"


def test_question_joins_subject_and_body_without_reply_prefixes() -> None:
    q = question_from("Re: Fwd: Refunds", "Can I cancel?\n> old quote")
    assert q == "Refunds\n\nCan I cancel?"
    assert question_from("Refunds", "Refunds\nCan I cancel?") == "Refunds\n\nCan I cancel?"
    assert question_from("", "> only a quote\n-- \nsig") == ""
    assert len(question_from("s", "x" * 5000, max_chars=100)) == 100


def test_edit_distance_is_normalized_word_levenshtein() -> None:
    assert edit_distance("a b c", "a b c") == 0.0
    assert edit_distance("a b c d", "a x c d") == 0.25
    assert edit_distance("a b", "") == 1.0
    assert edit_distance("", "") == 0.0
    assert edit_distance("one two three", "zero one two three") == 0.25
