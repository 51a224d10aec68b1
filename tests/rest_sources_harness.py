"""Local stand-ins for Confluence Cloud and Zendesk Help Center, for the REST connectors.

The real services cannot be reached from the test machines, so each harness runs a real HTTP
server on 127.0.0.1 that answers the documented shapes of the endpoints the connector calls
(Confluence REST API v2 spaces/pages with ``_links.next`` cursors and the v1 read
restrictions; Zendesk Help Center articles with ``meta.has_more``/``links.next`` cursors or
``next_page``, and user segments). Every server: several result pages (``page_size`` 2),
a ``429`` with ``Retry-After`` on demand (``rate_limit_once``), a ``401`` for a wrong token,
content mutable between syncs, and an outage (the server stopped). ``hits`` records
``(path, status)`` of every request. Import with ``from rest_sources_harness import ...``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sources_harness import Harness, body

TOKEN = "s3cr3t-api-token-value"  # what the servers accept; options name it by env: only
TOKEN_ENV = "GW_TEST_REST_TOKEN"
EMAIL = "bot@example.com"

Route = Callable[[str, dict[str, str]], tuple[int, Any]]


class JsonServer:
    """A real HTTP server on 127.0.0.1 answering JSON from ``route(path, query)``; checks
    the ``Authorization`` header against ``expected_auth`` (401 otherwise)."""

    def __init__(self, route: Route, expected_auth: str | None) -> None:
        self.route, self.expected_auth = route, expected_auth
        self.hits: list[tuple[str, int]] = []
        self.rate_limit_once: str | None = None  # a Retry-After value for the next request
        self.server: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                headers: dict[str, str] = {}
                if outer.expected_auth is not None and \
                        self.headers.get("Authorization") != outer.expected_auth:
                    status, data = 401, {"errors": [{"title": "Unauthorized"}]}
                elif outer.rate_limit_once is not None:
                    headers["Retry-After"] = outer.rate_limit_once
                    outer.rate_limit_once = None
                    status, data = 429, {"error": "TooManyRequests"}
                else:
                    status, data = outer.route(parts.path, query)
                outer.hits.append((parts.path, status))
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _html(key: str, text: str) -> str:
    return f"<h2>{key.title()}</h2><p>{text}</p><ac:structured-macro ac:name=\"info\">" \
           f"<ac:rich-text-body><p>Note on {key}.</p></ac:rich-text-body>" \
           "</ac:structured-macro>"


# ------------------------------------------------------------------------------ confluence
class ConfluenceHarness(Harness):
    """Space ``DOCS`` (id 98304) with pages ``1001``... (one per key, in key order)."""

    kind = "confluence"
    SPACE_ID = "98304"

    def __init__(self, root: Any = None) -> None:
        os.environ[TOKEN_ENV] = TOKEN
        self.pages: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, str] = {}
        self.restrictions: dict[str, dict[str, list[dict[str, str]]]] = {}
        for n, key in enumerate(self.initial):
            self.ids[key] = str(1001 + n)
            self._put(key, body(key), version=1)
        self.server = JsonServer(self.route, basic(EMAIL, TOKEN))

    def _put(self, key: str, text: str, version: int, parent: str | None = None) -> None:
        pid = self.ids[key]
        self.pages[pid] = {
            "id": pid, "status": "current", "title": key.title(), "spaceId": self.SPACE_ID,
            "parentId": parent, "version": {"number": version,
                                            "createdAt": f"2026-01-0{version}T10:00:00.000Z"},
            "body": {"storage": {"value": _html(key, text), "representation": "storage"}},
            "_links": {"webui": f"/spaces/DOCS/pages/{pid}/{key.title()}"}}

    def route(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        links = {"base": f"{self.server.base}/wiki"}
        if path == "/wiki/api/v2/spaces":
            found = [{"id": self.SPACE_ID, "key": "DOCS", "name": "Docs"}] \
                if query.get("keys") == "DOCS" else []
            return 200, {"results": found, "_links": links}
        if path == f"/wiki/api/v2/spaces/{self.SPACE_ID}/pages":
            assert query.get("body-format") == "storage", query
            limit, start = int(query.get("limit", "25")), int(query.get("cursor", "0"))
            ordered = [self.pages[i] for i in sorted(self.pages)]
            page = ordered[start:start + limit]
            if start + limit < len(ordered):
                rest = {k: v for k, v in query.items() if k != "cursor"}
                links["next"] = (f"/wiki/api/v2/spaces/{self.SPACE_ID}/pages?"
                                 + urlencode({**rest, "cursor": start + limit}))
            return 200, {"results": page, "_links": links}
        if path.startswith("/wiki/rest/api/content/") and path.endswith("/byOperation/read"):
            pid = path.split("/")[5]
            if pid not in self.pages:
                return 404, {"message": "not found"}
            found_r = self.restrictions.get(pid, {})
            return 200, {"operation": "read", "restrictions": {
                "user": {"results": found_r.get("user", []), "size": 0},
                "group": {"results": found_r.get("group", []), "size": 0}}}
        return 404, {"message": f"no route {path}"}

    def options(self) -> dict[str, Any]:
        return {"url": self.server.base, "space": "DOCS", "email": EMAIL,
                "token": f"env:{TOKEN_ENV}", "page_size": 2, "retries": 1}

    def uri(self, key: str) -> str:
        return f"pages/{self.ids[key]}"

    def change(self, key: str, text: str) -> None:
        page = self.pages[self.ids[key]]
        self._put(key, text, page["version"]["number"] + 1, page["parentId"])

    def delete(self, key: str) -> None:
        del self.pages[self.ids[key]]

    def add_failing(self) -> tuple[dict[str, Any], str, str]:
        self.ids["big"] = "2001"
        self._put("big", "word " * 3000, version=1)
        return {**self.options(), "max_bytes": 12000}, "pages/2001", "read.too_large"

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        self.server.stop()
        try:
            yield
        finally:
            self.server.start()

    def close(self) -> None:
        self.server.stop()


# ------------------------------------------------------------------------------ zendesk
class ZendeskHarness(Harness):
    """Locale ``en-us`` with articles ``360001``... (one per key), cursor pagination."""

    kind = "zendesk"

    def __init__(self, root: Any = None) -> None:
        os.environ[TOKEN_ENV] = TOKEN
        self.articles: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, str] = {}
        self.segments: dict[str, dict[str, Any]] = {}
        self.offset_pagination = False
        self.stamp = 0
        for n, key in enumerate(self.initial):
            self.ids[key] = str(360001 + n)
            self._put(key, body(key))
        self.server = JsonServer(self.route, basic(f"{EMAIL}/token", TOKEN))

    def _put(self, key: str, text: str, **fields: Any) -> None:
        aid = self.ids[key]
        self.stamp += 1
        old = self.articles.get(aid, {})
        self.articles[aid] = {
            "id": int(aid), "title": key.title(), "name": key.title(),
            "body": f"<h2>{key.title()}</h2><p>{text}</p>", "locale": "en-us",
            "updated_at": f"2026-02-01T10:00:{self.stamp:02d}Z", "draft": False,
            "html_url": f"https://example.zendesk.com/hc/en-us/articles/{aid}-{key}",
            "section_id": 7001, "user_segment_id": old.get("user_segment_id"),
            **fields}

    def route(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == "/api/v2/help_center/en-us/articles.json":
            ordered = [self.articles[i] for i in sorted(self.articles)]
            if self.offset_pagination:
                size, number = int(query.get("per_page", "2")), int(query.get("page", "1"))
                chunk = ordered[(number - 1) * size: number * size]
                more = number * size < len(ordered)
                return 200, {"articles": chunk, "count": len(ordered), "next_page": (
                    f"{self.server.base}{path}?per_page={size}&page={number + 1}"
                    if more else None)}
            size, after = int(query.get("page[size]", "30")), int(query.get("page[after]", "0"))
            chunk = ordered[after:after + size]
            more = after + size < len(ordered)
            return 200, {"articles": chunk, "meta": {
                "has_more": more, "after_cursor": str(after + size) if more else None},
                "links": {"next": f"{self.server.base}{path}?" + urlencode(
                    {"page[size]": size, "page[after]": after + size}) if more else None}}
        if path.startswith("/api/v2/help_center/user_segments/"):
            sid = path.rsplit("/", 1)[1].removesuffix(".json")
            if sid not in self.segments:
                return 404, {"error": "RecordNotFound"}
            return 200, {"user_segment": {"id": int(sid), **self.segments[sid]}}
        return 404, {"error": f"no route {path}"}

    def options(self) -> dict[str, Any]:
        return {"url": self.server.base, "email": EMAIL, "token": f"env:{TOKEN_ENV}",
                "page_size": 2, "retries": 1}

    def uri(self, key: str) -> str:
        return f"articles/{self.ids[key]}"

    def change(self, key: str, text: str) -> None:
        self._put(key, text)

    def delete(self, key: str) -> None:
        del self.articles[self.ids[key]]

    def add_failing(self) -> tuple[dict[str, Any], str, str]:
        self.ids["big"] = "369001"
        self._put("big", "word " * 3000)
        return {**self.options(), "max_bytes": 12000}, "articles/369001", "read.too_large"

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        self.server.stop()
        try:
            yield
        finally:
            self.server.start()

    def close(self) -> None:
        self.server.stop()


REST_HARNESSES = {"confluence": ConfluenceHarness, "zendesk": ZendeskHarness}
