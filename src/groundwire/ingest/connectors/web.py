"""A web site as a source of items: a same-site crawl from a start URL and/or a sitemap.

* Scope: pages on the start URL's scheme, host and port only; links are followed breadth
  first (``max_pages`` at most), ``<loc>`` entries of ``sitemap`` (a ``sitemap.xml`` or a
  sitemap index, one level) are added to the frontier.
* Politeness: ``robots.txt`` is obeyed (``urllib.robotparser``; a disallowed page is not
  fetched, so it is not — or no longer — a document); one request at a time, ``delay_s``
  apart; ``user_agent`` identifies the crawler.
* Pages: HTML is reduced to its main text by trafilatura (navigation, footers and other
  boilerplate dropped); the item carries the text and title, its ``uri`` is the page's URL
  after redirects (fragment dropped). Other text-like types are read as bytes.
* Change detection: the cursor keeps each page's ``ETag``/``Last-Modified`` and its links;
  the next crawl sends ``If-None-Match``/``If-Modified-Since`` and a ``304`` page is
  unchanged (its stored links still guide the crawl). A page answering ``404``/``410`` (or
  no longer linked) is deleted; any other failure of one page keeps it as it was.
* Outage: when ``robots.txt`` or the start URL cannot be fetched (connection error, timeout,
  a 5xx), the crawl raises ``InvalidRequest`` ``web.unreachable``: nothing is deleted.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from groundwire.domain import SourceItem
from groundwire.errors import ConfigurationError, InvalidRequest, ReadError
from groundwire.ingest.connectors.changes import ChangeSet

if TYPE_CHECKING:
    import httpx

    from groundwire.settings import Settings

WEB_OPTIONS = frozenset({"url", "sitemap", "max_pages", "delay_s", "user_agent", "timeout_s",
                         "max_bytes"})
_TEXT_TYPES = {"text/plain": "text/plain", "text/markdown": "text/markdown"}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _normal(url: str) -> str:
    return urldefrag(url)[0]


@dataclass
class _Crawl:
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)  # uri -> cursor entry
    items: list[SourceItem] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)  # uris failing now, kept as they were


class WebConnector:
    """A same-site crawl (see the module docstring)."""

    def __init__(self, url: str, *, sitemap: str | None, max_pages: int, delay_s: float,
                 user_agent: str, timeout_s: float, max_bytes: int) -> None:
        self.url, self.sitemap = _normal(url), sitemap
        self.max_pages, self.delay_s = max_pages, delay_s
        self.user_agent, self.timeout_s, self.max_bytes = user_agent, timeout_s, max_bytes
        self._last = 0.0

    @property
    def source(self) -> tuple[str, str]:
        return ("web", self.url)

    def _same_site(self, url: str) -> bool:
        return _origin(url) == _origin(self.url) and urlsplit(url).scheme in ("http", "https")

    def _get(self, client: httpx.Client, url: str, headers: dict[str, str] | None = None
             ) -> httpx.Response:
        wait = self._last + self.delay_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            return client.get(url, headers=headers or {})
        finally:
            self._last = time.monotonic()

    def _unreachable(self, url: str, why: str) -> InvalidRequest:
        return InvalidRequest(f"{url}: {why}", code="web.unreachable")

    def _robots(self, client: httpx.Client) -> RobotFileParser:
        import httpx

        scheme, host = _origin(self.url)
        robots_url = f"{scheme}://{host}/robots.txt"
        parser = RobotFileParser(robots_url)
        try:
            response = self._get(client, robots_url)
        except httpx.HTTPError as exc:
            raise self._unreachable(robots_url, str(exc) or type(exc).__name__) from exc
        if response.status_code >= 500:
            raise self._unreachable(robots_url, f"HTTP {response.status_code}")
        parser.parse(response.text.splitlines() if response.status_code == 200 else [])
        return parser

    def _sitemap_urls(self, client: httpx.Client, url: str, depth: int = 0) -> list[str]:
        import httpx

        try:
            response = self._get(client, url)
        except httpx.HTTPError as exc:
            raise self._unreachable(url, str(exc) or type(exc).__name__) from exc
        if response.status_code >= 500:
            raise self._unreachable(url, f"HTTP {response.status_code}")
        if response.status_code != 200:
            return []
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            return []
        locs = [el.text.strip() for el in root.iter() if el.tag.endswith("loc") and el.text]
        if root.tag.endswith("sitemapindex") and depth == 0:
            return [u for loc in locs for u in self._sitemap_urls(client, loc, 1)]
        return locs

    def changes(self, cursor: dict[str, Any] | None) -> ChangeSet:
        import httpx

        previous: dict[str, dict[str, Any]] = dict((cursor or {}).get("pages") or {})
        crawl = _Crawl()
        with httpx.Client(timeout=self.timeout_s, follow_redirects=True,
                          headers={"User-Agent": self.user_agent}) as client:
            robots = self._robots(client)
            frontier: deque[str] = deque([self.url])
            if self.sitemap:
                frontier.extend(self._sitemap_urls(client, urljoin(self.url, self.sitemap)))
            queued = set(frontier)
            while frontier and len(crawl.seen) + len(crawl.kept) < self.max_pages:
                url = _normal(frontier.popleft())
                if not self._same_site(url) or not robots.can_fetch(self.user_agent, url):
                    continue
                for link in self._visit(client, url, url == self.url, previous, crawl):
                    link = _normal(link)
                    if link not in queued and self._same_site(link):
                        queued.add(link)
                        frontier.append(link)
        complete = cursor is None
        kept = {_uri(u, previous.get(u)) for u in crawl.kept}
        deleted = [] if complete else sorted(
            {_uri(u, e) for u, e in previous.items()}
            - {_uri(u, e) for u, e in crawl.seen.items()} - kept)
        pages = {**{u: previous[u] for u in crawl.kept if u in previous}, **crawl.seen}
        return ChangeSet(items=crawl.items, deleted=deleted, cursor={"pages": pages},
                         complete=complete,
                         notes={"pages": len(crawl.seen), "changed": len(crawl.items),
                                "deleted": len(deleted)})

    def _visit(self, client: httpx.Client, url: str, is_start: bool,
               previous: dict[str, dict[str, Any]], crawl: _Crawl) -> list[str]:
        """Fetch one page; record it in ``crawl``; its links."""
        import httpx

        known = previous.get(url)
        headers = {}
        if known and known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known and known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        try:
            response = self._get(client, url, headers)
        except httpx.HTTPError as exc:
            if is_start:
                raise self._unreachable(url, str(exc) or type(exc).__name__) from exc
            return self._keep(url, known, crawl, "read.io_error", str(exc))
        final = _normal(str(response.url))
        if response.status_code == 304 and known:
            crawl.seen[url] = known
            return list(known.get("links") or [])
        if response.status_code in (404, 410):
            if is_start:
                raise self._unreachable(url, f"HTTP {response.status_code} for the start URL")
            return []
        if response.status_code != 200:
            if is_start and response.status_code >= 500:
                raise self._unreachable(url, f"HTTP {response.status_code}")
            return self._keep(url, known, crawl, f"read.http_{response.status_code}",
                              f"HTTP {response.status_code}")
        if final != url and (not self._same_site(final) or final in crawl.seen):
            return []
        return self._page(url, final, response, crawl)

    def _keep(self, url: str, known: dict[str, Any] | None, crawl: _Crawl, code: str,
              why: str) -> list[str]:
        """A page failing for now: kept as it was (known) or a failed item (new)."""
        crawl.kept.add(url)
        if known:
            return list(known.get("links") or [])

        def fail() -> bytes:
            raise ReadError(f"{url}: {why}", code=code)

        crawl.items.append(SourceItem(uri=url, media_type="text/html", read=fail))
        return []

    def _page(self, url: str, final: str, response: httpx.Response, crawl: _Crawl
              ) -> list[str]:
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        entry = {"uri": final, "etag": response.headers.get("etag"),
                 "last_modified": response.headers.get("last-modified"), "links": []}
        body = response.content
        if len(body) > self.max_bytes:
            crawl.items.append(SourceItem(uri=final, media_type=media or "text/html",
                                          read=_too_large(final, len(body), self.max_bytes)))
            crawl.seen[url] = entry
            return []
        if media in _TEXT_TYPES:
            crawl.items.append(SourceItem(uri=final, media_type=_TEXT_TYPES[media],
                                          read=lambda: body, size=len(body),
                                          metadata={"url": final}))
        elif media in ("text/html", "application/xhtml+xml", ""):
            title, text, links = _extract(response.text, final)
            entry["links"] = links
            if text.strip():
                crawl.items.append(SourceItem(uri=final, media_type="text/plain",
                                              read=lambda: text.encode(), text=text,
                                              title=title, metadata={"url": final}))
        else:
            return []  # not a text type this connector indexes
        crawl.seen[url] = entry
        if final != url:
            crawl.seen[final] = entry
        return list(entry["links"])

    def items(self) -> Iterator[SourceItem]:
        return iter(self.changes(None).items)


def _uri(url: str, entry: dict[str, Any] | None) -> str:
    """The document uri of a cursor entry (the page's URL after redirects)."""
    return str((entry or {}).get("uri") or url)


def _too_large(uri: str, size: int, limit: int) -> Any:
    def fail() -> bytes:
        raise ReadError(f"{uri}: {size} bytes exceeds the limit of {limit} bytes",
                        code="read.too_large")
    return fail


def _extract(html: str, url: str) -> tuple[str, str, list[str]]:
    """(title, main text without boilerplate, absolute links) of an HTML page."""
    import trafilatura
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    links = sorted({urljoin(url, str(a["href"])) for a in soup.find_all("a", href=True)
                    if not str(a["href"]).startswith(("mailto:", "javascript:", "#"))})
    title = soup.title.get_text(strip=True) if soup.title else ""
    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=True,
                               favor_recall=True) or ""
    return title or url, text, links


def from_options(options: Mapping[str, Any], settings: Settings) -> WebConnector:
    """The ``web`` connector factory (entry point ``groundwire.connectors: web``).

    ``url`` (required, http or https), ``sitemap`` (a URL or a path on the site, e.g.
    ``/sitemap.xml``), ``max_pages`` (default 500), ``delay_s`` (between requests, default
    0.5), ``user_agent`` (default ``groundwire``), ``timeout_s`` (default 20), ``max_bytes``
    (default ``ingest.max_file_mb``). Anything else: ``ConfigurationError``. No I/O."""
    unknown = sorted(set(options) - WEB_OPTIONS)
    if unknown:
        raise ConfigurationError(f"web connector: unknown option(s) {', '.join(unknown)} "
                                 f"(known: {', '.join(sorted(WEB_OPTIONS))})")
    url = options.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") \
            or not urlsplit(url).netloc:
        raise ConfigurationError(f"web connector: option 'url' must be an http(s) URL, "
                                 f"got {url!r}")
    try:
        max_pages = int(500 if options.get("max_pages") is None else options["max_pages"])
        delay_s = float(options.get("delay_s", 0.5) or 0.0)
        timeout_s = float(options.get("timeout_s") or 20.0)
        max_bytes = int(options.get("max_bytes")
                        or int(settings.ingest.max_file_mb * 1024 * 1024))
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"web connector: {exc}") from exc
    if max_pages <= 0 or delay_s < 0 or timeout_s <= 0 or max_bytes <= 0:
        raise ConfigurationError("web connector: max_pages, timeout_s and max_bytes must be "
                                 "positive, delay_s not negative")
    sitemap = options.get("sitemap")
    return WebConnector(url, sitemap=sitemap if isinstance(sitemap, str) else None,
                        max_pages=max_pages, delay_s=delay_s,
                        user_agent=str(options.get("user_agent") or "groundwire"),
                        timeout_s=timeout_s, max_bytes=max_bytes)
