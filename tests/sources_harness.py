"""Real sources for the connector contract and the sources tests (not a conftest).

Each harness owns one real source the way a user has it — a git repository made with the
``git`` CLI, a site served by a real HTTP server on 127.0.0.1, a SQLite file, a folder — and
can change it: ``change(key, text)``, ``delete(key)``, ``outage()`` (a context manager during
which the source cannot be reached: the repository moved away, the server stopped, the file
gone). ``uri(key)`` is the document uri the connector gives that entry. Import with
``from sources_harness import ...`` (``tests/`` is on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WORDS = {
    "alpha": "Alpha explains how the harbour lantern guides boats through the night fog.",
    "beta": "Beta describes the meadow quarry where the velvet willow grows near water.",
    "gamma": "Gamma covers the orchard pepper harvest and the marble canyon falcon nests.",
}


def body(key: str, extra: str = "") -> str:
    text = WORDS.get(key, f"{key} is a document about {key}.")
    return f"{text} {extra} " + " ".join([text] * 3)


class Harness:
    kind = ""
    initial = tuple(WORDS)

    def options(self) -> dict[str, Any]:
        raise NotImplementedError

    def uri(self, key: str) -> str:
        raise NotImplementedError

    @property
    def expected_documents(self) -> int:
        return len(self.initial)

    def change(self, key: str, text: str) -> None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def add_failing(self) -> tuple[dict[str, Any], str, str]:
        """Add one entry that cannot be read: (options making it fail, its uri, its code)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        raise NotImplementedError
        yield

    def close(self) -> None:
        pass


# ------------------------------------------------------------------------------ folder
class FolderHarness(Harness):
    kind = "folder"

    def __init__(self, root: Path) -> None:
        self.root = root / "folder"
        self.root.mkdir(parents=True)
        for key in self.initial:
            (self.root / f"{key}.md").write_text(f"# {key}\n\n{body(key)}\n")

    def options(self) -> dict[str, Any]:
        return {"path": str(self.root)}

    def uri(self, key: str) -> str:
        return f"{key}.md"

    def change(self, key: str, text: str) -> None:
        (self.root / f"{key}.md").write_text(f"# {key}\n\n{text}\n")

    def delete(self, key: str) -> None:
        (self.root / f"{key}.md").unlink()

    def add_failing(self) -> tuple[dict[str, Any], str, str]:
        (self.root / "big.md").write_text("# Big\n\n" + "word " * 2000)
        return {**self.options(), "max_bytes": 4000}, "big.md", "read.too_large"

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        away = self.root.with_name("folder-away")
        self.root.rename(away)
        try:
            yield
        finally:
            away.rename(self.root)


# ------------------------------------------------------------------------------ git
def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


class GitHarness(Harness):
    kind = "git"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repo = root / "repo"
        self.repo.mkdir(parents=True)
        git(self.repo, "init", "-q", "-b", "main")
        git(self.repo, "config", "user.email", "test@example.com")
        git(self.repo, "config", "user.name", "Test")
        (self.repo / "docs").mkdir()
        for key in self.initial:
            (self.repo / "docs" / f"{key}.md").write_text(f"# {key}\n\n{body(key)}\n")
        (self.repo / "image.bin").write_bytes(b"\x00\x01")  # excluded below
        self.commit("initial")

    def commit(self, message: str) -> str:
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", message)
        return git(self.repo, "rev-parse", "HEAD").strip()

    def options(self) -> dict[str, Any]:
        return {"repo": str(self.repo), "branch": "main", "include": ["docs/**"],
                "cache_dir": str(self.root / "cache")}

    def uri(self, key: str) -> str:
        return f"docs/{key}.md"

    def change(self, key: str, text: str) -> None:
        (self.repo / "docs" / f"{key}.md").write_text(f"# {key}\n\n{text}\n")
        self.commit(f"change {key}")

    def delete(self, key: str) -> None:
        (self.repo / "docs" / f"{key}.md").unlink()
        self.commit(f"delete {key}")

    def add_failing(self) -> tuple[dict[str, Any], str, str]:
        (self.repo / "docs" / "big.md").write_text("# Big\n\n" + "word " * 2000)
        self.commit("a big file")
        return {**self.options(), "max_bytes": 4000}, "docs/big.md", "read.too_large"

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        away = self.repo.with_name("repo-away")
        self.repo.rename(away)
        try:
            yield
        finally:
            away.rename(self.repo)


# ------------------------------------------------------------------------------ sql
class SqlHarness(Harness):
    kind = "sql"

    def __init__(self, root: Path) -> None:
        self.path = root / "records.db"
        with contextlib.closing(sqlite3.connect(self.path)) as db, db:
            db.execute("CREATE TABLE articles (id TEXT PRIMARY KEY, headline TEXT, content TEXT,"
                       " updated_at TEXT, team TEXT, readers TEXT)")
            for key in self.initial:
                db.execute("INSERT INTO articles VALUES (?, ?, ?, ?, ?, NULL)",
                           (key, key.title(), body(key), self.now(), "docs"))

    @staticmethod
    def now() -> str:
        return datetime.now(UTC).isoformat(timespec="microseconds")

    def options(self) -> dict[str, Any]:
        return {"url": f"sqlite:///{self.path}",
                "query": "SELECT id, headline, content, updated_at, team FROM articles",
                "columns": {"title": "headline", "body": "content", "metadata": ["team"]}}

    def uri(self, key: str) -> str:
        return key

    def change(self, key: str, text: str) -> None:
        with contextlib.closing(sqlite3.connect(self.path)) as db, db:
            db.execute("UPDATE articles SET content = ?, updated_at = ? WHERE id = ?",
                       (text, self.now(), key))

    def delete(self, key: str) -> None:
        with contextlib.closing(sqlite3.connect(self.path)) as db, db:
            db.execute("DELETE FROM articles WHERE id = ?", (key,))

    def add_failing(self) -> tuple[dict[str, Any], str, str]:
        with contextlib.closing(sqlite3.connect(self.path)) as db, db:
            db.execute("INSERT INTO articles VALUES ('broken', 'Broken', 'Some text.', ?,"
                       " 'docs', '{not json')", (self.now(),))
        options = self.options()
        options["query"] = options["query"].replace("team FROM", "team, readers FROM")
        options["columns"] = {**options["columns"], "permissions": "readers"}
        return options, "broken", "permissions.invalid"

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        away = self.path.with_name("records-away.db")
        self.path.rename(away)
        try:
            yield
        finally:
            away.rename(self.path)


# ------------------------------------------------------------------------------ web
PAGE = """<!doctype html><html><head><title>{title}</title></head><body>
<nav><a href="/index.html">Home</a> | <a href="/about-menu.html">Menu entry</a></nav>
<main><article><h1>{title}</h1><p>{text}</p><p>{text}</p>{links}</article></main>
<footer>Copyright Boilerplate Footer Corporation. All rights reserved. Cookie settings.</footer>
</body></html>"""


class Site:
    """A small site on a real HTTP server on 127.0.0.1 (its pages mutable between syncs):
    ETag and Last-Modified on every page with conditional requests answered 304; counts of
    requests by path and status in ``hits``."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.hits: list[tuple[str, int]] = []
        self.server: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def put(self, path: str, content: bytes | str, status: int = 200,
            content_type: str = "text/html; charset=utf-8", **headers: str) -> None:
        data = content.encode() if isinstance(content, str) else content
        self.pages[path] = (status, {"Content-Type": content_type, **headers}, data)

    def page(self, path: str, title: str, text: str, links: list[str] | None = None) -> None:
        anchors = "".join(f'<p><a href="{link}">{link}</a></p>' for link in links or [])
        self.put(path, PAGE.format(title=title, text=text, links=anchors))

    def start(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = self.path.split("?")[0]
                status, headers, data = site.pages.get(path, (404, {}, b"not found"))
                etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
                if status == 200 and self.headers.get("If-None-Match") == etag:
                    status, data = 304, b""
                site.hits.append((path, status))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if status in (200, 304):
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", formatdate(usegmt=True))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class WebHarness(Harness):
    kind = "web"

    def __init__(self, root: Path) -> None:
        self.site = Site()
        self.texts = {key: body(key) for key in self.initial}
        self.extra_links: list[str] = []
        self._render()
        self.site.put("/robots.txt", "User-agent: *\nDisallow: /private.html\n",
                      content_type="text/plain")
        self.site.page("/private.html", "Private", "Secret roadmap private page " * 20)
        self.site.put("/old.html", b"", status=301, Location="/moved.html")
        self.site.page("/moved.html", "Moved", "The moved page tells about the ferry timetable "
                       "and the lighthouse keeper. " * 10)
        self.site.put("/sitemap.xml",
                      '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                      'sitemap/0.9"><url><loc>' + self.site.base + '/gamma.html</loc></url>'
                      '</urlset>', content_type="application/xml")

    def _render(self) -> None:
        linked = [f"/{k}.html" for k in self.texts if k != "gamma"]
        self.site.page("/index.html", "Home", "Welcome to the small test site of harbour "
                       "notes, with pages on lanterns, quarries and orchards. " * 5,
                       [*linked, "/private.html", "/old.html", "/missing.html",
                        *self.extra_links])
        for key, text in self.texts.items():
            self.site.page(f"/{key}.html", key.title(), text)

    @property
    def expected_documents(self) -> int:
        return len(self.initial) + 2  # the home page and the page moved by a redirect

    def options(self) -> dict[str, Any]:
        return {"url": self.site.base + "/index.html", "sitemap": "/sitemap.xml",
                "delay_s": 0}

    def uri(self, key: str) -> str:
        return f"{self.site.base}/{key}.html"

    def change(self, key: str, text: str) -> None:
        self.texts[key] = text
        self._render()

    def add_failing(self) -> tuple[dict[str, Any], str, str]:
        self.site.page("/big.html", "Big", "word " * 6000)
        self.extra_links.append("/big.html")
        self._render()
        return ({**self.options(), "max_bytes": 12000}, f"{self.site.base}/big.html",
                "read.too_large")

    def delete(self, key: str) -> None:
        del self.texts[key]
        self.site.pages.pop(f"/{key}.html", None)
        self._render()

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        self.site.stop()
        try:
            yield
        finally:
            self.site.start()

    def close(self) -> None:
        self.site.stop()


def _s3(root: Path) -> Harness:
    from s3_harness import S3Harness  # moto in server mode (tests/s3_harness.py)

    return S3Harness(root)


HARNESSES = {"folder": FolderHarness, "git": GitHarness, "web": WebHarness, "sql": SqlHarness,
             "s3": _s3}
