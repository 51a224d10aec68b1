"""HTML: visible main content as heading and body blocks (BeautifulSoup with lxml).

Boilerplate (scripts, styles, navigation, page header/footer, asides, forms) and hidden
elements are removed; when the page has ``<main>`` (or ``<article>``) only that content is
read. Headings ``h1``-``h6`` keep their level; every other block element (paragraph, list
item, ``pre``, blockquote, table row...) becomes a body block with whitespace collapsed
(``pre`` keeps its lines).
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING

from groundwire.domain import Block, ParsedDocument, SourceItem
from groundwire.errors import ParseError
from groundwire.ingest.parsers._common import collapse_whitespace, require_blocks, stem_title
from groundwire.ingest.parsers.text import looks_binary

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

_REMOVED_TAGS = (
    "script", "style", "noscript", "template", "svg", "nav", "footer", "aside", "form",
    "iframe", "object", "embed", "canvas", "head",
)  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Everything not listed here is treated as a block element (it starts and ends a block).
_INLINE_TAGS = frozenset({
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn",
    "em", "font", "i", "img", "ins", "kbd", "label", "mark", "nobr", "q", "s", "samp",
    "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr",
})  # fmt: skip
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _is_hidden(tag: Tag) -> bool:
    if tag.has_attr("hidden"):
        return True
    if str(tag.get("aria-hidden", "")).strip().lower() == "true":
        return True
    if str(tag.get("type", "")).strip().lower() == "hidden":
        return True
    return bool(_HIDDEN_STYLE.search(str(tag.get("style", ""))))


def _remove_boilerplate(soup: BeautifulSoup) -> None:
    doomed = soup.find_all(_REMOVED_TAGS)
    # A page header goes; an <article>/<main> header holds the article's own heading.
    doomed += [h for h in soup.find_all("header") if h.find_parent(["article", "main"]) is None]
    doomed += [t for t in soup.find_all(True) if _is_hidden(t)]
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()


def _content_roots(soup: BeautifulSoup) -> list[Tag]:
    main = soup.find_all("main")
    if main:
        return [m for m in main if m.find_parent("main") is None]
    articles = soup.find_all("article")
    if articles:
        return [a for a in articles if a.find_parent("article") is None]
    return [soup.body or soup]


class _BlockCollector:
    """Walks a tree in document order; inline text accumulates until a block boundary."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._inline: list[str] = []

    def flush(self) -> None:
        text = collapse_whitespace("".join(self._inline))
        self._inline.clear()
        if text:
            self.blocks.append(Block(text=text, level=0))

    def walk(self, node: Tag) -> None:
        from bs4.element import NavigableString, PreformattedString, Tag

        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, doctype, CDATA, PIs
                continue
            if isinstance(child, NavigableString):
                self._inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name == "br":
                self._inline.append(" ")
            elif name in _INLINE_TAGS:
                self.walk(child)
            elif name in _HEADINGS:
                self.flush()
                text = collapse_whitespace(child.get_text(" "))
                if text:
                    self.blocks.append(Block(text=text, level=_HEADINGS[name]))
            elif name == "tr":
                self.flush()
                cells = [collapse_whitespace(c.get_text(" ")) for c in child.find_all(["td", "th"])]
                row = " | ".join(c for c in cells if c)
                if row:
                    self.blocks.append(Block(text=row, level=0))
            elif name == "pre":
                self.flush()
                lines = [line.rstrip() for line in child.get_text().split("\n")]
                text = "\n".join(lines).strip("\n")
                if text.strip():
                    self.blocks.append(Block(text=text, level=0))
            else:
                self.flush()
                self.walk(child)
                self.flush()


def _soup(data: bytes, uri: str) -> BeautifulSoup:
    from bs4 import BeautifulSoup

    try:
        with warnings.catch_warnings():
            # bs4 warns about XHTML parsed as HTML, markup that looks like a URL, etc.
            warnings.simplefilter("ignore")
            return BeautifulSoup(data, "lxml")
    except Exception as exc:  # any failure inside bs4/lxml is a property of this document
        raise ParseError(f"{uri}: unreadable HTML: {exc}", code="parse.html_invalid") from exc


def parse_html(item: SourceItem) -> ParsedDocument:
    """HTML to blocks. Title: ``<title>``, else the first ``h1``, else the file stem.
    Errors: ``parse.binary`` (not text), ``parse.empty`` (no visible text),
    ``parse.html_invalid`` (the HTML parser failed)."""
    data = item.read()
    if looks_binary(data):
        raise ParseError(f"{item.uri}: looks like a binary file, not HTML", code="parse.binary")
    if not data.strip():
        raise ParseError(f"{item.uri}: the file is empty", code="parse.empty")
    soup = _soup(data, item.uri)
    title_tag = soup.find("title")
    page_title = collapse_whitespace(title_tag.get_text(" ")) if title_tag is not None else ""
    _remove_boilerplate(soup)
    blocks: list[Block] = []
    for root in _content_roots(soup):
        collector = _BlockCollector()
        collector.walk(root)
        collector.flush()
        blocks += collector.blocks
    if not blocks and soup.body is not None:  # <main> present but empty: read the body
        collector = _BlockCollector()
        collector.walk(soup.body)
        collector.flush()
        blocks = collector.blocks
    kept = require_blocks(blocks, item.uri, hint="no visible text in the page")
    title = (
        page_title
        or next((b.text for b in kept if b.level == 1), "")
        or item.title
        or stem_title(item.uri)
    )
    return ParsedDocument(title=title, blocks=kept)
