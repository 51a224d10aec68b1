"""Built-in parsers: real files (reportlab PDFs, python-docx documents), real damage."""

from __future__ import annotations

import gzip
import io
import logging
import random
from pathlib import Path

import pytest

from groundwire.domain import Block, SourceItem
from groundwire.errors import ParseError
from groundwire.ingest.parsers import (
    BUILTIN_PARSERS,
    RECORD_MEDIA_TYPES,
    media_type_for,
    parse_docx,
    parse_html,
    parse_image,
    parse_markdown,
    parse_pdf,
    parse_record,
    parse_text,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def file_item(path: Path) -> SourceItem:
    return SourceItem(uri=path.name, media_type=media_type_for(path.name), read=path.read_bytes)


def bytes_item(uri: str, data: bytes) -> SourceItem:
    return SourceItem(uri=uri, media_type=media_type_for(uri), read=lambda: data)


def parse_error(parser, item: SourceItem) -> ParseError:
    with pytest.raises(ParseError) as info:
        parser(item)
    return info.value


# --- media types and the registry ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("notes.md", "text/markdown"),
        ("docs/Guide.MARKDOWN", "text/markdown"),
        ("a.txt", "text/plain"),
        ("a.text", "text/plain"),
        ("index.rst", "text/plain"),
        ("server.log", "text/plain"),
        ("page.html", "text/html"),
        ("page.HTM", "text/html"),
        ("paper.pdf", "application/pdf"),
        ("report.docx", DOCX),
        ("table.csv", "text/csv"),
        ("corpus.jsonl", "application/x-ndjson"),
        ("corpus.ndjson", "application/x-ndjson"),
        ("beir/corpus.jsonl.gz", "application/x-ndjson"),
        ("corpus.NDJSON.GZ", "application/x-ndjson"),
        ("data.json", "application/json"),
        ("archive.tar.gz", "application/octet-stream"),
        ("data.json.gz", "application/octet-stream"),
        ("README", "application/octet-stream"),
        (".md", "application/octet-stream"),
        ("image.png", "image/png"),
        ("scan.TIFF", "image/tiff"),
        ("photo.jpeg", "image/jpeg"),
        ("image.heic", "application/octet-stream"),
    ],
)
def test_media_type_for_maps_extensions(path: str, expected: str) -> None:
    assert media_type_for(path) == expected


def test_builtin_parsers_cover_document_formats_but_not_record_containers() -> None:
    assert dict(BUILTIN_PARSERS) == {
        "text/plain": parse_text,
        "text/markdown": parse_markdown,
        "text/html": parse_html,
        "application/pdf": parse_pdf,
        DOCX: parse_docx,
        **{f"image/{kind}": parse_image for kind in ("bmp", "gif", "jpeg", "png", "tiff", "webp")},
    }
    assert set(RECORD_MEDIA_TYPES) == {"application/x-ndjson", "application/json", "text/csv"}
    assert not RECORD_MEDIA_TYPES & BUILTIN_PARSERS.keys()


# --- plain text ---------------------------------------------------------------------------


def test_text_splits_paragraphs_on_blank_lines_and_titles_by_stem(tmp_path: Path) -> None:
    path = tmp_path / "field-notes.txt"
    path.write_bytes(b"First line\r\nstill first.\r\n\r\n  \r\nSecond paragraph.\n\n\n")
    doc = parse_text(file_item(path))
    assert doc.title == "field-notes"
    assert doc.blocks == (Block("First line\nstill first.", 0), Block("Second paragraph.", 0))


def test_text_detects_a_legacy_encoding() -> None:
    russian = "Привет, как дела? Это тестовый документ на русском языке."
    doc = parse_text(bytes_item("ru.txt", russian.encode("cp1251")))
    assert doc.text == russian


def test_text_honours_a_utf16_byte_order_mark() -> None:
    # UTF-16 is full of NUL bytes: the BOM must win over the binary check.
    doc = parse_text(bytes_item("wide.txt", "Grüße aus Köln\n\nZweiter Absatz".encode("utf-16")))
    assert doc.blocks == (Block("Grüße aus Köln", 0), Block("Zweiter Absatz", 0))


def test_text_strips_a_utf8_byte_order_mark() -> None:
    doc = parse_text(bytes_item("bom.txt", b"\xef\xbb\xbfhello"))
    assert doc.blocks == (Block("hello", 0),)


def test_random_bytes_named_txt_are_binary(tmp_path: Path) -> None:
    rng = random.Random(20240501)
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    assert parse_error(parse_text, file_item(path)).code == "parse.binary"


def test_random_bytes_without_nul_are_still_binary() -> None:
    rng = random.Random(7)
    data = bytes(rng.randrange(1, 256) for _ in range(4096))
    assert b"\x00" not in data
    assert parse_error(parse_text, bytes_item("noise.txt", data)).code == "parse.binary"


def test_png_renamed_txt_is_binary() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
    assert parse_error(parse_text, bytes_item("photo.txt", png)).code == "parse.binary"


def test_text_in_no_known_encoding_is_an_encoding_error() -> None:
    data = bytes(range(0x80, 0x100)) * 3  # no control bytes, but no code page makes text of it
    assert parse_error(parse_text, bytes_item("odd.txt", data)).code == "parse.encoding"


@pytest.mark.parametrize("data", [b"", b"  \n\t\r\n  "])
def test_empty_or_blank_text_is_empty(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(data)
    assert parse_error(parse_text, file_item(path)).code == "parse.empty"


def test_text_parser_uses_the_text_an_item_already_carries() -> None:
    def never_read() -> bytes:
        raise AssertionError("an item with text must not be read")

    item = SourceItem(
        uri="corpus.jsonl#d1",
        media_type="text/plain",
        read=never_read,
        title="Record title",
        text="Para one.\n\nPara two.",
    )
    doc = parse_text(item)
    assert doc.title == "Record title"
    assert doc.blocks == (Block("Para one.", 0), Block("Para two.", 0))
    assert parse_record(item) == doc


def test_parse_record_without_a_title_has_an_empty_title_and_rejects_blank_text() -> None:
    item = SourceItem(uri="c.jsonl#1", media_type="text/plain", read=bytes, text="Body")
    assert parse_record(item).title == ""
    blank = SourceItem(uri="c.jsonl#2", media_type="text/plain", read=bytes, text=" \n\n ")
    assert parse_error(parse_record, blank).code == "parse.empty"


# --- Markdown -----------------------------------------------------------------------------

MARKDOWN = """\
---
title: "Deployment Guide"
tags: [ops, docker]
owner: platform team
authors:
  - Ada
  - Linus
---
# Installing

Read the [official docs](https://example.com/docs "Docs") and see
![architecture diagram](img/arch.png) for **details**.

```bash
# not a heading
make install
```

Configuration
-------------

- first item with `code_span`
- second item

| Key | Value |
|-----|-------|
| port | 8080 |

### Deep heading ###

~~~
## also not a heading
~~~
"""


def test_markdown_structure_front_matter_and_inline_syntax(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    doc = parse_markdown(file_item(path))
    assert doc.title == "Deployment Guide"
    assert doc.metadata == {
        "title": "Deployment Guide",
        "tags": ["ops", "docker"],
        "owner": "platform team",
        "authors": ["Ada", "Linus"],
    }
    assert doc.blocks == (
        Block("Installing", 1),
        Block("Read the official docs and see architecture diagram for details.", 0),
        Block("# not a heading\nmake install", 0),
        Block("Configuration", 2),
        Block("first item with code_span", 0),
        Block("second item", 0),
        Block("Key | Value", 0),
        Block("port | 8080", 0),
        Block("Deep heading", 3),
        Block("## also not a heading", 0),
    )


def test_markdown_title_falls_back_to_first_h1_then_stem() -> None:
    doc = parse_markdown(bytes_item("a.md", b"intro\n\n## Sub\n\nTitle Here\n==========\n"))
    assert doc.title == "Title Here"
    assert [b.level for b in doc.blocks] == [0, 2, 1]
    assert parse_markdown(bytes_item("docs/no-h1.md", b"## Only h2\n\ntext")).title == "no-h1"


def test_markdown_thematic_break_and_unclosed_front_matter_are_not_headings() -> None:
    source = b"---\nkey: not front matter\n\n#hashtag line\n\n* * *\n    # indented code\n"
    doc = parse_markdown(bytes_item("b.md", source))
    assert doc.metadata == {}
    assert doc.blocks == (
        Block("key: not front matter", 0),
        Block("#hashtag line", 0),
        Block("# indented code", 0),
    )


def test_markdown_inline_edge_cases_and_lists() -> None:
    source = (
        b"See [Foo](https://en.wikipedia.org/wiki/Foo_(bar)) <https://x.org>, snake_case_name,\n"
        b"*em*, 2 * 3 * 4 and \\*not emphasis\\*.\n\n"
        b"1. one\n   continued\n2. two\n\n> quoted\n> more\n\n[ref]: https://example.com\n"
    )
    doc = parse_markdown(bytes_item("edge.md", source))
    assert doc.blocks == (
        Block("See Foo https://x.org, snake_case_name, em, 2 * 3 * 4 and *not emphasis*.", 0),
        Block("one continued", 0),
        Block("two", 0),
        Block("quoted more", 0),
    )


def test_markdown_rejects_binary_and_empty() -> None:
    assert parse_error(parse_markdown, bytes_item("x.md", b"\x00\x01\x02")).code == "parse.binary"
    empty = bytes_item("y.md", b"---\ntitle: Only metadata\n---\n\n")
    assert parse_error(parse_markdown, empty).code == "parse.empty"


# --- HTML ---------------------------------------------------------------------------------

HTML = b"""<!DOCTYPE html>
<html><head><title>  Solar   Guide </title><style>.x{color:red}</style>
<script>var leaked = "SCRIPT-TEXT";</script></head>
<body>
<header><p>SITE-HEADER</p></header>
<nav><ul><li>NAV-LINK</li></ul></nav>
<p>OUTSIDE-MAIN paragraph</p>
<main>
  <h1>Solar   power</h1>
  <p>Panels convert <b>light</b>
     into electricity.</p>
  <div hidden>HIDDEN-ATTR</div>
  <p style="color: red; display : none">HIDDEN-STYLE</p>
  <span aria-hidden="true">ARIA-HIDDEN</span>
  <noscript>NOSCRIPT-TEXT</noscript>
  <template><p>TEMPLATE-TEXT</p></template>
  <svg><text>SVG-TEXT</text></svg>
  <form><label>FORM-TEXT</label><input value="x"></form>
  <aside>ASIDE-TEXT</aside>
  <!-- COMMENT-TEXT -->
  <h3>Costs</h3>
  <ul><li>Install</li><li>Maintain <i>yearly</i></li></ul>
  <table><tr><th>Item</th><th>Price</th></tr><tr><td>Panel</td><td>200</td></tr></table>
  <pre>line 1
  line 2</pre>
  <blockquote>Quoted words</blockquote>
</main>
<footer>FOOTER-TEXT</footer>
</body></html>"""


def test_html_reads_visible_main_content_only(tmp_path: Path) -> None:
    path = tmp_path / "solar.html"
    path.write_bytes(HTML)
    doc = parse_html(file_item(path))
    assert doc.title == "Solar Guide"
    assert doc.blocks == (
        Block("Solar power", 1),
        Block("Panels convert light into electricity.", 0),
        Block("Costs", 3),
        Block("Install", 0),
        Block("Maintain yearly", 0),
        Block("Item | Price", 0),
        Block("Panel | 200", 0),
        Block("line 1\n  line 2", 0),
        Block("Quoted words", 0),
    )
    for hidden in (
        "SCRIPT",
        "SITE-HEADER",
        "NAV-LINK",
        "OUTSIDE-MAIN",
        "HIDDEN",
        "NOSCRIPT",
        "TEMPLATE",
        "SVG",
        "FORM",
        "ASIDE",
        "COMMENT",
        "FOOTER",
    ):
        assert hidden not in doc.text


def test_html_without_main_reads_the_body_and_keeps_an_article_header() -> None:
    page = (
        b"<html><body><nav>menu</nav><div>Loose <em>text</em><p>para</p>tail</div>"
        b"<h2>Sub</h2></body></html>"
    )
    doc = parse_html(bytes_item("plain.htm", page))
    assert doc.title == "plain"
    assert doc.blocks == (
        Block("Loose text", 0),
        Block("para", 0),
        Block("tail", 0),
        Block("Sub", 2),
    )
    article = b"<article><header><h1>Article Title</h1></header><p>Body.</p></article>"
    doc = parse_html(bytes_item("a.html", article))
    assert doc.title == "Article Title"
    assert doc.blocks == (Block("Article Title", 1), Block("Body.", 0))


def test_xhtml_and_legacy_charsets_parse_without_warnings() -> None:
    xhtml = (
        '<?xml version="1.0" encoding="windows-1252"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Café crème</p></body></html>'
    ).encode("cp1252")
    assert parse_html(bytes_item("x.xhtml.html", xhtml)).blocks == (Block("Café crème", 0),)


def test_html_rejects_binary_and_pages_without_visible_text() -> None:
    rng = random.Random(99)
    noise = bytes(rng.randrange(256) for _ in range(2048))
    assert parse_error(parse_html, bytes_item("n.html", noise)).code == "parse.binary"
    blank = b"<html><head><title>T</title></head><body><script>x()</script><nav>m</nav></body>"
    assert parse_error(parse_html, bytes_item("b.html", blank)).code == "parse.empty"
    assert parse_error(parse_html, bytes_item("e.html", b"")).code == "parse.empty"


# --- PDF ----------------------------------------------------------------------------------


def make_pdf(title: str | None = "Solar Report") -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    options = {"title": title} if title is not None else {}
    SimpleDocTemplate(buffer, pagesize=letter, **options).build(
        [
            Paragraph("Solar Energy Basics", styles["Heading1"]),
            Paragraph("Photovoltaic cells convert sunlight into electricity.", styles["BodyText"]),
            Paragraph(
                "Inverters turn direct current into alternating current.", styles["BodyText"]
            ),
        ]
    )
    return buffer.getvalue()


@pytest.fixture
def pdf_path(tmp_path: Path) -> Path:
    path = tmp_path / "solar.pdf"
    path.write_bytes(make_pdf())
    return path


def test_pdf_text_and_metadata_title(pdf_path: Path) -> None:
    doc = parse_pdf(file_item(pdf_path))
    assert doc.title == "Solar Report"
    assert all(block.level == 0 for block in doc.blocks)
    text = " ".join(doc.text.split())
    assert text == (
        "Solar Energy Basics Photovoltaic cells convert sunlight into electricity. "
        "Inverters turn direct current into alternating current."
    )


def test_pdf_without_a_real_title_uses_the_file_stem() -> None:
    # reportlab writes the placeholder "(anonymous)" as the title when none is given
    doc = parse_pdf(bytes_item("annual-report.pdf", make_pdf(title=None)))
    assert doc.title == "annual-report"


def test_truncated_pdf_is_invalid_and_pypdf_stays_quiet(
    pdf_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = pdf_path.read_bytes()
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(data[: int(len(data) * 0.4)])
    level_before = logging.getLogger("pypdf").level
    with caplog.at_level(logging.DEBUG):
        error = parse_error(parse_pdf, file_item(truncated))
    assert error.code == "parse.pdf_invalid"
    assert "truncated.pdf" in str(error)
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert logging.getLogger("pypdf").level == level_before


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n" + bytes(random.Random(3).randrange(256) for _ in range(3000)),
        b"%PDF-1.4\n%%EOF\n",
        b"Just some text pretending to be a PDF",
    ],
)
def test_damaged_pdfs_are_invalid(data: bytes) -> None:
    assert parse_error(parse_pdf, bytes_item("bad.pdf", data)).code == "parse.pdf_invalid"


def test_pdf_without_text_is_empty_and_suggests_ocr() -> None:
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.rect(100, 100, 200, 200, fill=1)  # a drawing, like a scanned page: no text
    canvas.showPage()
    canvas.save()
    error = parse_error(parse_pdf, bytes_item("scan.pdf", buffer.getvalue()))
    assert error.code == "parse.empty"
    assert "OCR" in str(error)
    assert parse_error(parse_pdf, bytes_item("zero.pdf", b"")).code == "parse.empty"


# --- DOCX ---------------------------------------------------------------------------------


def make_docx(path: Path, *, core_title: str = "") -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = core_title
    document.add_heading("Quarterly Review", level=1)
    document.add_paragraph("Revenue grew in every region.")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Region", "Growth"), ("North", "12%")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_heading("Outlook", level=2)
    document.add_paragraph("Stable.")
    document.save(str(path))
    return path


def test_docx_headings_paragraphs_and_table_rows_in_order(tmp_path: Path) -> None:
    doc = parse_docx(file_item(make_docx(tmp_path / "review.docx")))
    assert doc.title == "Quarterly Review"
    assert doc.blocks == (
        Block("Quarterly Review", 1),
        Block("Revenue grew in every region.", 0),
        Block("Region | Growth", 0),
        Block("North | 12%", 0),
        Block("Outlook", 2),
        Block("Stable.", 0),
    )


def test_docx_core_title_wins(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "r.docx", core_title="Q3 Review (final)")
    assert parse_docx(file_item(path)).title == "Q3 Review (final)"


def test_docx_title_style_and_deep_headings(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Doc Title", level=0)  # the "Title" style
    document.add_heading("Level seven", level=7)
    path = tmp_path / "styles.docx"
    document.save(str(path))
    assert parse_docx(file_item(path)).blocks == (Block("Doc Title", 1), Block("Level seven", 6))


def test_zero_byte_and_non_zip_docx_are_invalid(tmp_path: Path) -> None:
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"")
    assert parse_error(parse_docx, file_item(empty)).code == "parse.docx_invalid"
    assert parse_error(parse_docx, bytes_item("t.docx", b"plain text")).code == (
        "parse.docx_invalid"
    )


def test_zip_that_is_not_a_word_document_is_invalid(tmp_path: Path) -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a document")
    assert parse_error(parse_docx, bytes_item("z.docx", buffer.getvalue())).code == (
        "parse.docx_invalid"
    )


def test_truncated_docx_is_invalid(tmp_path: Path) -> None:
    data = make_docx(tmp_path / "full.docx").read_bytes()
    item = bytes_item("cut.docx", data[: len(data) // 2])
    assert parse_error(parse_docx, item).code == "parse.docx_invalid"


def test_docx_without_text_is_empty(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    assert parse_error(parse_docx, file_item(path)).code == "parse.empty"


def test_gzip_named_txt_is_binary() -> None:
    data = gzip.compress(b"hello world " * 100, mtime=0)
    assert parse_error(parse_text, bytes_item("packed.txt", data)).code == "parse.binary"
