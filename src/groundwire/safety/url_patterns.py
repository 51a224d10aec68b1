"""What the answer output filter (``safety.output_filter``) recognises: the Markdown, HTML
and bare-URL patterns, the tags and attributes that fetch or link, and host
normalisation. The contract is in ``safety.output_filter``."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import unquote

import regex

FETCH_TAGS = frozenset({
    "a", "img", "image", "picture", "source", "iframe", "frame", "frameset", "script",
    "noscript", "style", "link", "meta", "base", "object", "embed", "applet", "video",
    "audio", "track", "svg", "math", "use", "form", "input", "button", "area", "map",
    "portal", "html", "head", "body", "template",
})
_URL_ATTR = regex.compile(
    r"(?i)(?:^|[\s\"'/])(?:src|href|srcset|style|action|formaction|poster|background|data|"
    r"xlink:href|ping|cite|codebase|manifest|lowsrc|dynsrc|on[a-z]+)\s*="
)

_TEXT = r"(?:[^\[\]\n]|\n(?!\n))*+"
_DEST = (
    r"\(\s*(?P<{name}><[^<>\n]*+>|(?:[^\s()]|\([^\s()]*+\))*+)"
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\)"
)
_URL_CHARS = r"[^\s<>\"'`]"
_PATTERN = regex.compile(
    "|".join((
        rf"(?P<image>(?<!\\)!\[(?P<alt>{_TEXT})\]{_DEST.format(name='image_dest')})",
        rf"(?P<link>(?<!\\)\[(?P<text>{_TEXT})\]{_DEST.format(name='link_dest')})",
        rf"(?P<dangling>\]{_DEST.format(name='dangling_dest')})",
        r"(?P<autolink><(?P<auto>[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\s]*+)>)",
        r"(?P<tag><(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9\-]*+)(?P<attrs>(?:[\s/][^<>]*+)?)>)",
        # bare URLs: scheme://..., //host, www.host, and the script/data schemes
        rf"(?P<url>(?:(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{{1,31}}://"
        rf"|//(?=[\w\[])"
        rf"|(?<![\w.@/\-])www\.(?=[\w\-])"
        rf"|(?<![\w.\-])(?i:javascript|data|vbscript|file|blob)\s*:(?=\S)"
        rf"){_URL_CHARS}*+)",
        # a bare host with a path, port or query: evil.example/x?q=...
        # (possessive: labels never backtrack, so a long dotted run costs linear time)
        rf"(?P<host>(?<![\w.@/:\-])(?P<hostname>(?:[^\W_][\w\-]{{0,62}}+\.)++"
        rf"[^\W\d_][\w\-]{{0,62}}+)(?P<rest>(?::\d{{1,5}})?[/?#]{_URL_CHARS}*+))",
    )),
    regex.VERSION1,
)
_TRAILING_PUNCT = ".,:;!?*_~'\")]}"
_SCHEME = regex.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_CONTROL = regex.compile(r"[\x00-\x20\x7f]")


@functools.cache
def _tld_extract() -> Any:
    import tldextract

    # The bundled public-suffix snapshot only: never a download, never a cache write.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def normalize_host(host: str) -> str | None:
    """The comparable form of a host: percent-decoded, lower case, no trailing dot, IDNA
    (UTS #46) ASCII; None when it is not a valid host name or address."""
    import idna

    host = unquote(host).strip().rstrip(".").lower()
    if not host or _CONTROL.search(host):
        return None
    if host.startswith("[") and host.endswith("]"):
        return host  # IPv6 literal: compared as written
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


def _trim(url: str) -> tuple[str, str]:
    """Split trailing punctuation off a bare URL (as GFM autolinks do): (url, punctuation);
    a closing parenthesis stays when the URL opened one."""
    end = len(url)
    while end > 0 and url[end - 1] in _TRAILING_PUNCT:
        if url[end - 1] == ")" and url[:end].count("(") >= url[:end].count(")"):
            break
        end -= 1
    return url[:end], url[end:]
