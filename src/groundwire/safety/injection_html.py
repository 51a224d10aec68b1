"""Text an HTML page hides from its human reader, and instruction-like comments:
``find_hidden_html``. Contract and scores: ``safety.injection``."""

from __future__ import annotations

import re
from typing import Any

from groundwire.safety.injection_rules import InjectionFinding, _excerpt, find_instructions

_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title", "meta",
                        "svg", "math"})
_WHITE = frozenset({"white", "#fff", "#ffffff", "rgb(255,255,255)", "rgba(255,255,255,1)",
                    "hsl(0,0%,100%)"})
_UI_SCORE = 0.5
_ARIA_SCORE = 0.4
_TRICK_SCORE = 0.7
_INSTRUCTION_FLOOR = 0.9


def _declarations(style: str) -> dict[str, str]:
    decls: dict[str, str] = {}
    for part in style.split(";"):
        name, sep, value = part.partition(":")
        if sep:
            value = re.sub(r"\s*!important\s*$", "", value.strip().lower())
            decls[name.strip().lower()] = re.sub(r"\s+", "", value)
    return decls


def _px(value: str) -> float | None:
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)(px|em|rem|pt|%|vw|vh)?", value)
    if not m:
        return None
    number = float(m.group(1))
    return number * 16 if m.group(2) in ("em", "rem") else number


def _hidden_by(
    decls: dict[str, str], inherited_background: str | None = None
) -> tuple[str, float] | None:
    """Why a declaration block hides its element's text, and how suspicious that is.
    ``inherited_background`` is the nearest ancestor's background colour (None: the page's
    default white)."""
    if decls.get("display") == "none":
        return "display:none", _UI_SCORE
    if decls.get("visibility") in ("hidden", "collapse"):
        return "visibility:hidden", _UI_SCORE
    size = _px(decls.get("font-size", ""))
    if size is not None and size <= 1:
        return "font-size:0", _TRICK_SCORE
    opacity = decls.get("opacity")
    if opacity is not None:
        try:
            if float(opacity.rstrip("%")) <= 0.01:
                return "opacity:0", _TRICK_SCORE
        except ValueError:
            pass
    color = decls.get("color")
    background = _background(decls) or inherited_background
    if color == "transparent":
        return "color:transparent", _TRICK_SCORE
    if color and ((background and color == background)
                  or (not background and color in _WHITE)):
        return "color-matches-background", _TRICK_SCORE
    for side in ("left", "top", "text-indent", "margin-left", "right"):
        offset = _px(decls.get(side, ""))
        if offset is not None and offset <= -500:
            return "off-screen", _TRICK_SCORE
    if decls.get("clip", "").startswith("rect(0") and decls.get("position") in ("absolute",
                                                                                "fixed"):
        # The "sr-only" / "visually-hidden" idiom: text for screen readers, a UI pattern.
        return "clipped", _UI_SCORE
    for dim in ("height", "width", "max-height", "max-width"):
        if _px(decls.get(dim, "")) == 0 and decls.get("overflow") == "hidden":
            return "zero-size", _TRICK_SCORE
    if "transform" in decls and re.search(r"scale\(0(?:\.0+)?\)", decls["transform"]):
        return "scale(0)", _TRICK_SCORE
    return None


def _stylesheet_rules(soup: Any) -> dict[str, dict[str, str]]:
    """Declarations of simple ``.class`` / ``#id`` / ``tag`` selectors in ``<style>`` blocks."""
    rules: dict[str, dict[str, str]] = {}
    for style in soup.find_all("style"):
        css = re.sub(r"/\*.*?\*/", "", style.get_text(), flags=re.DOTALL)
        for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
            decls = _declarations(body)
            for selector in selectors.split(","):
                selector = selector.strip()
                if re.fullmatch(r"[.#]?[A-Za-z_][\w-]*", selector):
                    rules.setdefault(selector, {}).update(decls)
    return rules


def _element_decls(tag: Any, sheet: dict[str, dict[str, str]]) -> dict[str, str]:
    decls: dict[str, str] = {}
    decls.update(sheet.get(tag.name, {}))
    for cls in tag.get("class") or []:
        decls.update(sheet.get(f".{cls}", {}))
    if tag.get("id"):
        decls.update(sheet.get(f"#{tag['id']}", {}))
    decls.update(_declarations(tag.get("style") or ""))
    return decls


def _line_offsets(html: str) -> list[int]:
    offsets = [0]
    for m in re.finditer("\n", html):
        offsets.append(m.end())
    return offsets


def find_hidden_html(html: str) -> list[InjectionFinding]:
    """Text present in ``html`` that a reader would not see, and instruction-like comments.

    Only the outermost hidden element is reported (its descendants' text is in its excerpt);
    elements are found in document order.
    ``<script>``, ``<style>``, ``<template>`` and ``<noscript>`` are not page text and are not
    reported.
    """
    if not html or "<" not in html:
        return []
    from bs4 import BeautifulSoup, Comment, Tag

    soup = BeautifulSoup(html, "html.parser")
    sheet = _stylesheet_rules(soup)
    lines = _line_offsets(html)

    def offset(tag: Any) -> int:
        line, col = getattr(tag, "sourceline", None), getattr(tag, "sourcepos", None)
        if line is None or col is None:
            return 0
        return lines[min(line - 1, len(lines) - 1)] + col

    findings: list[InjectionFinding] = []
    # Depth-first, top-down with an explicit stack (no recursion limit on deep pages): a hidden
    # element is reported and not descended into; backgrounds are inherited on the way down.
    stack: list[tuple[Any, str | None]] = [(soup, None)]
    while stack:
        node, background = stack.pop()
        children = [c for c in node.children if isinstance(c, Tag) and c.name not in _SKIP_TAGS]
        for tag in reversed(children):
            decls = _element_decls(tag, sheet)
            reason = _hidden_reason(tag, decls, background)
            if reason is None:
                stack.append((tag, _background(decls) or background))
                continue
            strings = list(tag.stripped_strings)
            text = " ".join(strings)
            if not re.search(r"\w", text):
                continue
            score = reason[1]
            if find_instructions(text):
                score = max(score, _INSTRUCTION_FLOOR) + 0.05
            start = offset(tag)
            pos = html.find(strings[-1], start)
            end = pos + len(strings[-1]) if pos >= 0 else start + len(str(tag))
            findings.append(InjectionFinding("hidden_html", start, end, _excerpt(text),
                                             round(min(score, 1.0), 3)))

    search_from = 0
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        body = str(comment)
        pos = html.find(body, search_from)
        if pos >= 0:
            search_from = pos + len(body)
        hits = find_instructions(body)
        if hits:
            start = max(pos - 4, 0) if pos >= 0 else 0
            end = pos + len(body) + 3 if pos >= 0 else 0
            findings.append(InjectionFinding("html_comment", start, end, _excerpt(body),
                                             max(h.score for h in hits)))
    return sorted(findings, key=lambda f: (f.start, f.end))


def _background(decls: dict[str, str]) -> str | None:
    value = decls.get("background-color") or decls.get("background")
    if not value or value in ("none", "transparent", "inherit", "initial", "unset"):
        return None
    return value


def _hidden_reason(
    tag: Any, decls: dict[str, str], inherited_background: str | None
) -> tuple[str, float] | None:
    if tag.has_attr("hidden"):
        return "hidden-attribute", _UI_SCORE
    by_style = _hidden_by(decls, inherited_background)
    if by_style is not None:
        return by_style
    if str(tag.get("aria-hidden", "")).lower() == "true":
        return "aria-hidden", _ARIA_SCORE
    return None
