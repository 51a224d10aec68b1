"""Real PDFs read as prose (issue 20 item 8): on a reportlab-made handbook, the parsed text is
whole sentences — wrapped lines joined, hyphenated words joined, the paragraph cut by a page
break joined, no running header, no page numbers — and the sentence splitter finds exactly
the printed sentences."""

from __future__ import annotations

import re

from support.prose_pdf import HEADER, SENTENCES, TITLE, handbook_pdf

from groundwire.domain import SourceItem
from groundwire.ingest.chunking import split_sentences
from groundwire.ingest.parsers.pdf import parse_pdf, prose_paragraphs


def parsed_text() -> tuple[str, str]:
    data = handbook_pdf()
    doc = parse_pdf(SourceItem(uri="handbook.pdf", media_type="application/pdf",
                               read=lambda: data))
    return doc.title, doc.text


def test_pdf_text_is_whole_sentences_without_page_furniture() -> None:
    title, text = parsed_text()
    assert title == TITLE
    assert HEADER not in text and "Hillside" not in text
    assert not re.search(r"Page \d", text)
    assert "or- chard" not in text and "Febru-" not in text
    assert "orchard." in text and "February." in text
    for sentence in SENTENCES:
        assert sentence in text, sentence
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == SENTENCES


def test_prose_paragraphs_rules() -> None:
    pages = [
        "Running Head\n\nFirst para line one goes on and on and on\nand ends here.\n\n"
        "A sentence cut by the page\n\n  3  ",
        "Running Head\n\ncontinues on the next page. A com-\npound word.\n\n- 4 -",
        "Running Head\n\nHeading Without Stop\n\n",
        "Running Head\n\nNew page starts anew.\n\niv",
    ]
    assert prose_paragraphs(pages) == [
        "First para line one goes on and on and on and ends here.",
        "A sentence cut by the page continues on the next page. A compound word.",
        "Heading Without Stop",
        "New page starts anew.",
    ]


def test_single_page_keeps_a_line_that_merely_looks_like_a_header() -> None:
    assert prose_paragraphs(["Running Head\n\nBody text."]) == ["Running Head", "Body text."]


def test_sentence_splitter_keeps_wrapped_lines_and_splits_real_breaks() -> None:
    text = ("Install the package with\nroot privileges. Then open port 7443.\n"
            "- first item\n- second item\nShort heading\nBody starts here. Dr. Ng agreed.")
    parts = [text[s:e] for s, e in split_sentences(text)]
    assert parts == ["Install the package with\nroot privileges.", "Then open port 7443.",
                     "- first item", "- second item", "Short heading", "Body starts here.",
                     "Dr. Ng agreed."]


def test_abbreviations_and_decimals_do_not_end_sentences() -> None:
    text = "The U.S. Army tested it. Prof. Lee agreed. It rose 5.5 percent. See Fig. 3 here."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "The U.S. Army tested it.", "Prof. Lee agreed.", "It rose 5.5 percent.",
        "See Fig. 3 here."]
