"""groundwire.text: the shared word regexes match what their names say."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from groundwire import text
from groundwire.text import (
    LETTER,
    LETTER_WORD,
    NON_SPACE_RUN,
    WHITESPACE_RUN,
    WORD,
    WORD2,
    WORD_WITH_APOSTROPHE,
    words,
)


def test_word_is_every_run_of_word_characters() -> None:
    assert WORD.findall("A_1 b-2, café 東京") == ["A_1", "b", "2", "café", "東京"]


def test_word2_skips_one_character_words() -> None:
    assert WORD2.findall("I saw a cat at 5 o'clock") == ["saw", "cat", "at", "clock"]
    assert words("Naïve Bayes, a 2x win") == ["Naïve", "Bayes", "2x", "win"]


def test_letter_word_and_letter_exclude_digits_and_underscore() -> None:
    assert LETTER_WORD.findall("abc123def_x ÉTÉ") == ["abc", "def", "x", "ÉTÉ"]
    assert LETTER.findall("a1_ß") == ["a", "ß"]


def test_word_with_apostrophe_keeps_inner_apostrophes_and_hyphens() -> None:
    found = WORD_WITH_APOSTROPHE.findall("don't stop state-of-the-art 'quoted' _x -y O'Brien")
    assert found == ["don't", "stop", "state-of-the-art", "quoted'", "x", "y", "O'Brien"]


def test_whitespace_shapes() -> None:
    assert NON_SPACE_RUN.findall(" end.  next\tline\n") == ["end.", "next", "line"]
    assert WHITESPACE_RUN.sub(" ", "a \t\n b\u00a0c") == "a b c"


def test_patterns_equal_the_ones_they_replaced() -> None:
    """``re.UNICODE`` is the default for str patterns: the shared patterns are the same
    compiled expressions as the module-private ones they replaced."""
    assert re.compile(r"\w+", re.UNICODE) == WORD
    assert re.compile(r"\w\w+", re.UNICODE) == WORD2
    assert re.compile(r"[^\W\d_]+", re.UNICODE) == LETTER_WORD
    assert re.compile(r"[^\W\d_]", re.UNICODE) == LETTER
    assert re.compile(r"[^\W_][\w'\-]*", re.UNICODE) == WORD_WITH_APOSTROPHE


def test_text_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(text.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    }
    assert imported <= {"__future__", "re"}
