"""Edge cases of the per-dimension detectors (pure functions, no corpus)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from groundwire.assess.access import permission_metadata, sidecar_path
from groundwire.assess.dimensions.conflicts import numeric_diffs
from groundwire.assess.dimensions.inventory import detect_language
from groundwire.assess.dimensions.parseability import garble_reasons
from groundwire.assess.dimensions.staleness import metadata_date, text_dates
from groundwire.assess.questions import read_questions
from groundwire.assess.textutil import normalise, shingles
from groundwire.errors import InvalidRequest

CLEAN = (
    "The committee reviewed the annual budget and approved the new library wing after a "
    "long discussion about maintenance, staffing and opening hours for the public."
)


def test_normalise_folds_case_width_and_whitespace() -> None:
    assert normalise("  Hello\tWORLD\n\nＡＢＣ  ") == normalise("hello world abc")
    assert normalise("a b") != normalise("ab")


def test_shingles_of_short_text_is_one_shingle() -> None:
    assert shingles("one two") == {b"one two"}
    assert len(shingles("a b c d e")) == 3


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("The fee is 12% of the total.", "The fee is 15% of the total.", [("12%", "15%")]),
        ("Refunds within 30 days.", "Refunds within 45 days.", [("30", "45")]),
        ("Price: $1,200.50 per seat.", "Price: $1,250.50 per seat.", [("$1,200.50", "$1,250.50")]),
        ("Valid until March 2021.", "Valid until April 2021.", [("March", "April")]),
    ],
)
def test_numeric_diffs_report_the_differing_spans(a: str, b: str, expected: list) -> None:
    diffs = numeric_diffs(a, b)
    assert [(d["a"], d["b"]) for d in diffs] == expected
    for d in diffs:
        assert a[d["a_start"] : d["a_end"]] == d["a"] and b[d["b_start"] : d["b_end"]] == d["b"]


def test_numeric_diffs_ignore_word_edits_and_identical_numbers() -> None:
    assert numeric_diffs("The red fox paid 12 coins.", "The brown fox paid 12 coins.") == []
    assert numeric_diffs("same 1 2 3", "same 1 2 3") == []


def test_text_dates_finds_full_dates_only() -> None:
    text = (
        "Founded in 1998. Updated 2021-03-04, reviewed 4 March 2020, signed March 5, 2019, "
        "due June 2018. Bad 2021-02-30."
    )
    found = sorted(d for d, _, _ in text_dates(text))
    assert found == [date(2018, 6, 1), date(2019, 3, 5), date(2020, 3, 4), date(2021, 3, 4)]
    for _, s, e in text_dates(text):
        assert text[s:e].strip()


def test_metadata_date_reads_the_first_parseable_field() -> None:
    assert metadata_date({"updated_at": "2019-05-01"}) == datetime(2019, 5, 1, tzinfo=UTC)
    assert metadata_date({"modified": "not a date", "date": "2020-01-02T03:04:05Z"}) == datetime(
        2020, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    assert metadata_date({"title": "x"}) is None


def test_garble_reasons() -> None:
    assert garble_reasons(CLEAN) == []
    assert "mojibake" in garble_reasons("cafÃ© rÃ©sumÃ© naÃ¯ve dÃ©cor " + CLEAN)
    assert "replacement_characters" in garble_reasons("a\ufffdb\ufffdc\ufffd " + CLEAN)
    assert "non_letter_ratio" in garble_reasons("#$%^&*()_+{}|:<>?~ 1234567890 " * 6)
    ocr = "Th1s l1ne w4s sc4nned b4dly a n d t h e r e s u l t 1s n01sy t3xt " * 3
    assert "ocr_noise" in garble_reasons(ocr)
    assert garble_reasons("tiny %%%") == []  # too short to judge the ratios


def test_permission_metadata_keys_sidecar_and_empty_values(tmp_path: Path) -> None:
    assert permission_metadata({"allowed_groups": "staff", "x": 1}) == {"allowed_groups": "staff"}
    assert permission_metadata({"permissions": [], "acl": ""}) is None
    doc = tmp_path / "a.pdf"
    doc.write_bytes(b"%PDF-")
    assert permission_metadata({}, path=doc) is None
    sidecar_path(doc).write_text(json.dumps({"allowed_users": ["ann"]}), encoding="utf-8")
    assert permission_metadata({}, path=doc) == {"sidecar": {"allowed_users": ["ann"]}}
    sidecar_path(doc).write_text("{broken", encoding="utf-8")
    broken = permission_metadata({}, path=doc)
    assert broken is not None and broken["sidecar"] is None and "error" in broken


def test_detect_language() -> None:
    assert detect_language(CLEAN) == "en"
    assert (
        detect_language(
            "Der Hund ist nicht in dem Haus und die Katze ist auch nicht da, "
            "weil sie mit den Kindern auf der Straße spielt."
        )
        == "de"
    )
    assert (
        detect_language(
            "Le chat est dans la maison et les enfants sont avec le chien pour "
            "la journée qui est belle."
        )
        == "fr"
    )
    assert detect_language("xyzzy plugh 12345") == "unknown"


def test_read_questions_lines_and_beir(tmp_path: Path) -> None:
    lines = tmp_path / "q.txt"
    lines.write_text("What is X?\n\n  How do I Y?  \n", encoding="utf-8")
    assert read_questions(lines) == ["What is X?", "How do I Y?"]
    beir = tmp_path / "queries.jsonl"
    beir.write_text(
        '{"_id": "1", "text": "first?"}\n{"_id": "2", "text": "second?"}\n', encoding="utf-8"
    )
    assert read_questions(beir) == ["first?", "second?"]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InvalidRequest):
        read_questions(empty)
