"""Markdown: headings (ATX and setext), paragraphs, list items, table rows, fenced code.

A line-based reading of CommonMark's block structure, enough for documentation: it never
mistakes a ``#`` line inside a fenced code block for a heading, strips link/image/emphasis
syntax to plain text, and reads a YAML front matter block (``---`` ... ``---`` on the first
line) with a small ``key: value`` parser into ``ParsedDocument.metadata``.
"""

from __future__ import annotations

import re
from typing import Any

from groundwire.domain import Block, ParsedDocument, SourceItem
from groundwire.ingest.parsers._common import first_heading, require_blocks, stem_title
from groundwire.ingest.parsers.text import decode_text

_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_ATX = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(?P<mark>=+|-+)[ \t]*$")
_THEMATIC = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+(?P<text>.*))?$")
_QUOTE = re.compile(r"^ {0,3}>[ ]?")
_LINK_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S+.*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_FRONT_MATTER_KEY = re.compile(
    r"^(?P<key>[A-Za-z0-9_][\w.-]*(?: [\w.-]+)*)[ \t]*:(?:[ \t]+(?P<value>.*))?$"
)
_FRONT_MATTER_ITEM = re.compile(r"^[ \t]+-[ \t]+(?P<value>.*)$|^-[ \t]+(?P<top>.*)$")

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_INLINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<!--.*?-->", re.DOTALL), ""),
    # images before links: ![alt](url "title") / ![alt][ref] -> alt
    (re.compile(r"!\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)"), r"\1"),
    (re.compile(r"!\[([^\]]*)\]\[[^\]]*\]"), r"\1"),
    # links: [text](url) / [text][ref] -> text
    (re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    # autolinks <https://x> -> https://x
    (re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>"), r"\1"),
    # inline HTML tags
    (re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"), ""),
    # emphasis and strikethrough
    (re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"), r"\1"),
)


def strip_inline(text: str) -> str:
    """Markdown inline syntax removed: links and images keep their text, emphasis markers,
    inline HTML tags and comments go; code spans keep their content verbatim."""
    out: list[str] = []
    pos = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_strip_prose(text[pos : match.start()]))
        out.append(match.group(2).strip() if match.group(2).strip() else match.group(2))
        pos = match.end()
    out.append(_strip_prose(text[pos:]))
    return "".join(out).strip()


_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# Escaped punctuation is parked in a private-use plane while the rules run, so ``\*`` is
# never taken for emphasis, then restored as the bare character.
_PARK_BASE = 0xF0000
_UNPARK = {_PARK_BASE + c: chr(c) for c in range(0x21, 0x7F)}


def _strip_prose(text: str) -> str:
    text = _ESCAPE.sub(lambda m: chr(_PARK_BASE + ord(m.group(1))), text)
    for pattern, replacement in _INLINE_RULES:
        text = pattern.sub(replacement, text)
    return text.translate(_UNPARK)


def _scalar(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse_front_matter(lines: list[str]) -> dict[str, Any]:
    """A small subset of YAML: top-level ``key: value`` pairs, ``key: [a, b]`` and
    ``key:`` followed by ``- item`` lines. Values are strings or lists of strings; quotes are
    removed; comments, blank lines and nested mappings are ignored."""
    meta: dict[str, Any] = {}
    list_key: str | None = None
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _FRONT_MATTER_ITEM.match(line)
        if item and list_key is not None:
            current = meta.get(list_key)
            values = current if isinstance(current, list) else []
            values.append(_scalar(item.group("value") or item.group("top") or ""))
            meta[list_key] = values
            continue
        pair = _FRONT_MATTER_KEY.match(line)
        if pair is None or line[0].isspace():
            continue
        key, value = pair.group("key"), (pair.group("value") or "").strip()
        if value.startswith("[") and value.endswith("]"):
            inner = value[1:-1].strip()
            meta[key] = [_scalar(v) for v in inner.split(",")] if inner else []
            list_key = None
        else:
            meta[key] = _scalar(value)
            list_key = key if not value else None
    return meta


def _split_front_matter(lines: list[str]) -> tuple[dict[str, Any], list[str]]:
    if not lines or lines[0].rstrip() != "---":
        return {}, lines
    for end in range(1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            return parse_front_matter(lines[1:end]), lines[end + 1 :]
    return {}, lines


def _table_row(line: str) -> str:
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return " | ".join(strip_inline(c.strip()) for c in cells)


def markdown_blocks(lines: list[str]) -> list[Block]:
    """Block structure of Markdown ``lines`` (front matter already removed)."""
    blocks: list[Block] = []
    para: list[str] = []
    kind = "para"  # what ``para`` holds: "para", "item" or "quote"

    def flush() -> None:
        if para:
            text = strip_inline(" ".join(p.strip() for p in para))
            if text:
                blocks.append(Block(text=text, level=0))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE_OPEN.match(line)
        if fence and not (fence.group("fence")[0] == "`" and "`" in fence.group("info")):
            flush()
            mark = fence.group("fence")
            close = re.compile(rf"^ {{0,3}}{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$")
            indent = len(fence.group("indent"))
            code: list[str] = []
            i += 1
            while i < len(lines) and not close.match(lines[i]):
                body = lines[i]
                code.append(body[min(indent, len(body) - len(body.lstrip(" "))) :])
                i += 1
            i += 1  # the closing fence (or past the end: an unclosed fence runs to the end)
            code_text = "\n".join(c.rstrip() for c in code).strip("\n")
            if code_text.strip():
                blocks.append(Block(text=code_text, level=0))
            continue
        i += 1
        if not line.strip():
            flush()
            continue
        atx = _ATX.match(line)
        if atx:
            flush()
            heading = strip_inline(atx.group("text") or "")
            if heading:
                blocks.append(Block(text=heading, level=len(atx.group("hashes"))))
            continue
        setext = _SETEXT.match(line)
        if setext and para and kind == "para":
            heading = strip_inline(" ".join(p.strip() for p in para))
            para.clear()
            if heading:
                blocks.append(Block(text=heading, level=1 if setext.group("mark")[0] == "=" else 2))
            continue
        if _THEMATIC.match(line):
            flush()
            continue
        if not para and _LINK_DEF.match(line):
            continue
        if line.lstrip().startswith("|"):
            flush()
            if not _TABLE_SEPARATOR.match(line):
                row = _table_row(line)
                if row.replace("|", "").strip():
                    blocks.append(Block(text=row, level=0))
            continue
        item = _LIST_ITEM.match(line)
        if item:
            flush()
            kind = "item"
            para.append(item.group("text") or "")
            continue
        quote = _QUOTE.match(line)
        if quote:
            content = line
            while (q := _QUOTE.match(content)) is not None:
                content = content[q.end() :]
            if kind != "quote":
                flush()
                kind = "quote"
            if content.strip():
                para.append(content)
            else:
                flush()
            continue
        if not para:
            kind = "para"
        para.append(line)
    flush()
    return blocks


def parse_markdown(item: SourceItem) -> ParsedDocument:
    """Markdown to blocks. Title: front matter ``title``, else the first H1, else the file
    stem. Metadata: the front matter. Errors: ``parse.binary``, ``parse.encoding``,
    ``parse.empty``."""
    text = decode_text(item.read(), item.uri)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    metadata, body = _split_front_matter(lines)
    blocks = require_blocks(markdown_blocks(body), item.uri)
    fm_title = metadata.get("title")
    title = (
        (fm_title.strip() if isinstance(fm_title, str) and fm_title.strip() else None)
        or first_heading(blocks, 1)
        or item.title
        or stem_title(item.uri)
    )
    return ParsedDocument(title=title, blocks=blocks, metadata=metadata)
