"""What the REST API connectors (``confluence``, ``zendesk``) share: one JSON GET with
retries and coded errors, pagination, option checks, HTML items and an id/version diff.

* ``RestClient.get_json(url)``: a GET with the source's credentials (HTTP Basic for
  ``email`` + ``token``, else ``Bearer`` for a ``token`` alone, else anonymous) on an
  ``httpx.Client`` with a timeout. Responses:

  - ``429``: waits ``Retry-After`` (seconds or an HTTP date; 1 s when absent) and tries
    again, at most ``max_attempts`` times; a wait longer than ``max_retry_wait_s`` is not
    waited: ``<kind>.rate_limited`` at once;
  - ``401``/``403``: ``<kind>.auth_failed`` (no retry);
  - ``5xx``, a timeout or a connection error: tried again ``retries`` times (0.25 s, 0.5 s...
    apart), then ``<kind>.unreachable``;
  - any other non-2xx, or a body that is not JSON: ``<kind>.bad_response``.

  Every one is an ``InvalidRequest`` raised while *listing*, so the caller deletes nothing
  (``sources`` records it as ``source.unreachable`` with this code in the message). No
  message ever holds a credential (the token only travels in the ``Authorization`` header).
* ``RestClient.pages(url, next_of)``: follows the API's next links; a next link to another
  origin (credentials would leak) or one already followed raises ``<kind>.bad_response``.
* ``diff(previous, current)``: the changed ids and the deleted ones between two cursors
  ``{id: change key}``.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from groundwire.domain import SourceItem
from groundwire.errors import ConfigurationError, InvalidRequest, ReadError

if TYPE_CHECKING:
    import httpx

    from groundwire.settings import Settings

COMMON_OPTIONS = frozenset({"url", "email", "token", "map_permissions", "timeout_s", "retries",
                            "max_retry_wait_s", "max_bytes", "page_size"})


class _Transient(Exception):
    """One attempt failed in a way worth another (5xx, timeout, connection, 429)."""

    def __init__(self, why: str, wait_s: float | None = None) -> None:
        super().__init__(why)
        self.wait_s = wait_s


@dataclass(frozen=True)
class RestOptions:
    """The options every REST connector takes (see ``common_options``)."""

    url: str
    email: str | None
    token: str | None
    map_permissions: bool
    timeout_s: float
    retries: int
    max_retry_wait_s: float
    max_bytes: int
    page_size: int


def common_options(kind: str, options: Mapping[str, Any], settings: Settings,
                   extra: frozenset[str], *, page_size: int, max_page_size: int
                   ) -> RestOptions:
    """Check ``options`` (the common ones plus ``extra``); ``ConfigurationError`` naming the
    first problem, never a credential's value. No I/O."""
    unknown = sorted(set(options) - COMMON_OPTIONS - extra)
    if unknown:
        raise ConfigurationError(
            f"{kind} connector: unknown option(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(COMMON_OPTIONS | extra))})")
    url = options.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") \
            or not urlsplit(url).netloc or urlsplit(url).username:
        raise ConfigurationError(f"{kind} connector: option 'url' must be the site's http(s) "
                                 "URL without credentials")
    email, token = options.get("email"), options.get("token")
    if email is not None and (not isinstance(email, str) or not email.strip()):
        raise ConfigurationError(f"{kind} connector: option 'email' must be a string")
    if token is not None and (not isinstance(token, str) or not token):
        raise ConfigurationError(f"{kind} connector: option 'token' must be a string "
                                 "(give it as env:VAR or file:/path)")
    if email and not token:
        raise ConfigurationError(f"{kind} connector: 'email' needs 'token' (env:VAR)")
    flag = options.get("map_permissions", False)
    if not isinstance(flag, bool):
        raise ConfigurationError(f"{kind} connector: 'map_permissions' must be true or false")
    try:
        timeout_s = float(options.get("timeout_s") or 20.0)
        retries = int(2 if options.get("retries") is None else options["retries"])
        max_wait = float(60.0 if options.get("max_retry_wait_s") is None
                         else options["max_retry_wait_s"])
        max_bytes = int(options.get("max_bytes")
                        or int(settings.ingest.max_file_mb * 1024 * 1024))
        size = int(options.get("page_size") or page_size)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{kind} connector: {exc}") from exc
    if timeout_s <= 0 or retries < 0 or max_wait < 0 or max_bytes <= 0 \
            or not 1 <= size <= max_page_size:
        raise ConfigurationError(
            f"{kind} connector: timeout_s and max_bytes must be positive, retries and "
            f"max_retry_wait_s not negative, page_size between 1 and {max_page_size}")
    return RestOptions(url=url.rstrip("/"), email=email, token=token, map_permissions=flag,
                       timeout_s=timeout_s, retries=retries, max_retry_wait_s=max_wait,
                       max_bytes=max_bytes, page_size=size)


def retry_after_s(value: str | None) -> float:
    """Seconds to wait for a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class RestClient:
    """JSON GETs against one site (see the module docstring); a context manager."""

    MAX_ATTEMPTS = 6  # 429s honoured per request

    def __init__(self, kind: str, options: RestOptions, *,
                 basic: Callable[[str, str], str] | None = None) -> None:
        self.kind, self.options = kind, options
        self._basic = basic or (lambda email, token: f"{email}:{token}")
        self._client: httpx.Client | None = None

    def __enter__(self) -> RestClient:
        import httpx

        headers = {"Accept": "application/json", "User-Agent": "groundwire"}
        opts = self.options
        if opts.token and opts.email:
            pair = self._basic(opts.email, opts.token).encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        elif opts.token:
            headers["Authorization"] = f"Bearer {opts.token}"
        self._client = httpx.Client(timeout=opts.timeout_s, headers=headers,
                                    follow_redirects=False)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def error(self, what: str, why: str) -> InvalidRequest:
        return InvalidRequest(f"{self.kind} {why} ({self.kind}.{what})",
                              code=f"{self.kind}.{what}")

    def absolute(self, link: str) -> str:
        """``link`` (absolute or relative to the site) as a URL on the site's own origin."""
        url = urljoin(self.options.url + "/", link)
        here, there = urlsplit(self.options.url), urlsplit(url)
        if (here.scheme, here.netloc.lower()) != (there.scheme, there.netloc.lower()):
            raise self.error("bad_response", f"link {link!r} leaves the site "
                             f"{self.options.url}: not followed")
        return url

    def get_json(self, link: str, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON body of a GET of ``link`` (see the module docstring for failures)."""
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        url = self.absolute(link)
        transient = [0]  # 5xx/connection failures so far (429s count apart)

        def wait(state: Any) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.wait_s is not None:
                return exc.wait_s
            return 0.25 * (2 ** max(0, transient[0] - 1))

        def stop(state: Any) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.wait_s is None:
                transient[0] += 1
                return transient[0] > self.options.retries
            return stop_after_attempt(self.MAX_ATTEMPTS)(state)

        try:
            for attempt in Retrying(retry=retry_if_exception_type(_Transient), wait=wait,
                                    stop=stop, reraise=True):
                with attempt:
                    return self._once(url, params)
        except _Transient as exc:
            if exc.wait_s is not None:
                raise self.error("rate_limited", f"{url}: still rate limited after "
                                 f"{self.MAX_ATTEMPTS} attempts") from None
            raise self.error("unreachable", f"{url}: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover - Retrying returns or raises

    def _once(self, url: str, params: Mapping[str, Any] | None) -> Any:
        import httpx

        assert self._client is not None, "RestClient used outside its with block"
        try:
            response = self._client.get(url, params=dict(params) if params else None)
        except httpx.HTTPError as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}" if str(exc)
                             else type(exc).__name__) from None
        status = response.status_code
        if status == 429:
            wait_s = retry_after_s(response.headers.get("retry-after"))
            if wait_s > self.options.max_retry_wait_s:
                raise self.error("rate_limited", f"{url}: HTTP 429 asks to wait {wait_s:.0f} s,"
                                 f" more than max_retry_wait_s={self.options.max_retry_wait_s:g}")
            raise _Transient("HTTP 429", wait_s=wait_s)
        if status in (401, 403):
            raise self.error("auth_failed", f"{url}: HTTP {status}: the credentials were "
                             "refused (check email/token and the account's access)")
        if status >= 500:
            raise _Transient(f"HTTP {status}")
        if not 200 <= status < 300:
            raise self.error("bad_response", f"{url}: HTTP {status}")
        try:
            return response.json()
        except ValueError:
            raise self.error("bad_response", f"{url}: the body is not JSON") from None

    def pages(self, link: str, params: Mapping[str, Any] | None,
              next_of: Callable[[Any], str | None]) -> Iterator[Any]:
        """Each JSON page from ``link`` on, following ``next_of(page)`` (a link or None)."""
        seen: set[str] = set()
        current: str | None = link
        while current is not None:
            key = self.absolute(current)
            if key in seen:
                raise self.error("bad_response", f"{key}: pagination loops")
            seen.add(key)
            page = self.get_json(current, params)
            yield page
            params = None  # next links carry their own query
            current = next_of(page)


def html_item(uri: str, title: str, body: str, *, max_bytes: int, metadata: dict[str, Any],
              modified_at: datetime | None, permissions: Any = None) -> SourceItem:
    """An item of HTML ``body`` titled ``title``, parsed by the HTML parser; a body over
    ``max_bytes`` fails alone (``read.too_large``)."""
    page = (f"<html><head><title>{html.escape(title)}</title></head>"
            f"<body><main>{body}</main></body></html>").encode()

    def read() -> bytes:
        if len(page) > max_bytes:
            raise ReadError(f"{uri}: {len(page)} bytes exceeds the limit of {max_bytes} "
                            "bytes", code="read.too_large")
        return page

    return SourceItem(uri=uri, media_type="text/html", read=read, size=len(page),
                      title=title, metadata=metadata, modified_at=modified_at,
                      permissions=permissions)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` accepted) or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def diff(previous: Mapping[str, Any] | None, current: Mapping[str, Any]
         ) -> tuple[set[str], list[str]]:
    """(ids new or with another change key, ids gone) from ``previous`` to ``current``."""
    before = dict(previous or {})
    changed = {i for i, key in current.items() if before.get(i) != key}
    return changed, sorted(set(before) - set(current))
