"""A real HTTP callback receiver on 127.0.0.1 for the workflow tests (not a test module).

``Receiver`` runs a ``ThreadingHTTPServer`` in a thread; every POST is kept (path, headers,
raw body). ``fail[path] = n`` answers the next ``n`` POSTs to ``path`` with 503; accepted
ones get 200 and are listed in ``accepted``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float = 0.0  # time.perf_counter() on arrival


@dataclass
class Receiver:
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def accepted(self, path: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path == path and c.status == 200]

    def wait_accepted(self, path: str, count: int = 1, timeout_s: float = 60.0) -> list[Call]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.accepted(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {count} accepted callback(s) on {path}: {self.calls}")


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                failing = receiver.fail.get(self.path, 0)
                if failing:
                    receiver.fail[self.path] = failing - 1
                status = 503 if failing else 200
                receiver.calls.append(Call(self.path, {k.lower(): v for k, v in
                                                       self.headers.items()}, body, status,
                                           time.perf_counter()))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def served_app(pg_admin_url: str, root: Any, embedder: Any, **settings: Any
               ) -> Iterator[Any]:
    """A ``TestClient`` over ``create_app`` on a fresh database (module-scoped fixtures use
    it, so the app starts and the corpus is ingested once per module): dev mode, the small
    ``live_server.CORPUS`` ingested into ``default``, the in-process job worker polling every
    0.2 s, auto-tuning off."""
    from fastapi.testclient import TestClient
    from live_server import _create_database, _drop_database, write_corpus

    from groundwire.api.app import create_app
    from groundwire.settings import Settings

    corpus = write_corpus(root / "corpus")
    name, url = _create_database(pg_admin_url)
    try:
        values: dict[str, Any] = {
            "database_url": url, "data_dir": root / "data", "autotune": {"enabled": False},
            "jobs": {"poll_interval_s": 0.2}, **settings}
        with TestClient(create_app(Settings(**values), embedder=embedder),
                        base_url="http://127.0.0.1") as client:
            gw = client.app.state.groundwire  # type: ignore[attr-defined]
            client.portal.call(gw.ingest_path, str(corpus))  # type: ignore[union-attr]
            yield client
    finally:
        _drop_database(pg_admin_url, name)
