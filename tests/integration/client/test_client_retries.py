"""The client's retries against a tiny HTTP server on loopback that answers a scripted
sequence (429/503 with or without ``Retry-After``, then 200): the wait asked for is honoured,
tries are bounded, and a ``Retry-After`` over the policy's ``max_wait_s`` is not waited for."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from groundwire.client import AsyncClient, Client, GroundwireAPIError, RetryPolicy

OK = {"hits": [], "timings_ms": {}, "record_id": None}


def _error(code: str) -> dict[str, object]:
    return {"error": {"code": code, "message": "slow down", "request_id": "r1",
                      "details": None}}


class Stub:
    """Answers POSTs with ``script`` in order (status, headers), then 200 OK forever."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str]]] = []
        self.seen: list[float] = []  # arrival times
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers.get("content-length", 0)))
                stub.seen.append(time.monotonic())
                status, headers = stub.script.pop(0) if stub.script else (200, {})
                body = json.dumps(OK if status == 200 else _error(
                    "rate_limited" if status == 429 else "server.overloaded")).encode()
                self.send_response(status)
                for key, value in {**headers, "Content-Type": "application/json",
                                   "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    thread = threading.Thread(target=s.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield s
    finally:
        s.server.shutdown()
        s.server.server_close()
        thread.join(timeout=5)


def test_429_retry_after_is_honoured(stub: Stub) -> None:
    stub.script = [(429, {"Retry-After": "1"})]
    with Client(stub.url) as gw:
        result = gw.search("anything")
    assert result.hits == []
    assert len(stub.seen) == 2
    assert stub.seen[1] - stub.seen[0] >= 0.95  # waited what the server asked


def test_retry_after_as_an_http_date(stub: Stub) -> None:
    when = formatdate(time.time() + 2, usegmt=True)  # whole seconds: 1-2 s from now
    stub.script = [(503, {"Retry-After": when})]
    with Client(stub.url) as gw:
        gw.search("anything")
    assert len(stub.seen) == 2
    assert stub.seen[1] - stub.seen[0] >= 0.9


def test_503_without_retry_after_backs_off_and_tries_are_bounded(stub: Stub) -> None:
    stub.script = [(503, {})] * 5
    policy = RetryPolicy(max_attempts=3, backoff_s=0.05)
    with Client(stub.url, retry=policy) as gw, pytest.raises(GroundwireAPIError) as raised:
        gw.search("anything")
    assert len(stub.seen) == 3
    assert (raised.value.code, raised.value.status) == ("server.overloaded", 503)


def test_a_retry_after_over_the_bound_is_not_waited_for(stub: Stub) -> None:
    stub.script = [(429, {"Retry-After": "3600"})]
    policy = RetryPolicy(max_wait_s=5)
    started = time.monotonic()
    with Client(stub.url, retry=policy) as gw, pytest.raises(GroundwireAPIError) as raised:
        gw.search("anything")
    assert time.monotonic() - started < 5
    assert len(stub.seen) == 1
    assert raised.value.code == "rate_limited" and raised.value.retry_after == 3600


async def test_async_client_retries_too(stub: Stub) -> None:
    stub.script = [(429, {"Retry-After": "1"})]
    async with AsyncClient(stub.url) as gw:
        result = await gw.search("anything")
    assert result.hits == [] and len(stub.seen) == 2
    assert stub.seen[1] - stub.seen[0] >= 0.95
