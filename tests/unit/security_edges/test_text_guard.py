"""Text PostgreSQL cannot store (NUL, lone surrogates) is refused at the API edge
(``api/text_guard.py``): 422 ``request.invalid_character`` in the standard error shape, for
body fields at any depth, query parameters and path parameters, before any route runs (the
app here is never opened: a request reaching a route would fail with a 5xx)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from groundwire.api.text_guard import find_refused, refused_char
from groundwire.settings import Settings


def _app(tmp_path: Path, *, dev_mode: bool = True) -> TestClient:
    from groundwire.api.app import create_app

    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none",
                        data_dir=tmp_path / "data", security={"dev_mode": dev_mode},
                        embedding={"provider": "fake"})
    return TestClient(create_app(settings), raise_server_exceptions=False,
                      base_url="http://127.0.0.1")


def _refused(response: Any, loc: list[Any], char: str = "U+0000") -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "request_id", "details"}
    assert error["code"] == "request.invalid_character"
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert error["details"] == [{"loc": loc, "msg": f"{char} cannot be stored",
                                 "type": "invalid_character", "char": char}]


@pytest.mark.parametrize(("method", "url", "body", "loc"), [
    ("POST", "/v1/search", {"query": "a\x00b"}, ["body", "query"]),
    ("POST", "/v1/ask", {"question": "x", "filters": {"metadata": {"k\x00": "v"}}},
     ["body", "filters", "metadata", "k\\u0000"]),
    ("POST", "/v1/ingest", {"path": "/tmp/a\x00b"}, ["body", "path"]),
    ("POST", "/v1/documents", {"index": "default", "documents": [
        {"uri": "u", "text": "ok"}, {"uri": "v", "text": "bad\x00"}]},
     ["body", "documents", 1, "text"]),
    ("POST", "/v1/chat/completions", {"model": "groundwire", "messages": [
        {"role": "user", "content": "hi\x00"}]}, ["body", "messages", 0, "content"]),
    ("GET", "/v1/records?index=a%00b", None, ["query", "index"]),
    ("GET", "/v1/documents?index=%00", None, ["query", "index"]),
    ("GET", "/v1/indexes/a%00b/tuning", None, ["path"]),
    ("DELETE", "/v1/admin/users/a%00b", None, ["path"]),
])
def test_nul_anywhere_is_a_coded_422_before_the_route(
    tmp_path: Path, method: str, url: str, body: Any, loc: list[Any],
) -> None:
    client = _app(tmp_path)
    _refused(client.request(method, url, json=body), loc)


def test_lone_surrogates_are_refused_and_pairs_and_bidi_controls_pass() -> None:
    # JSON can carry a lone surrogate only as an escape; a valid pair decodes to one char
    assert find_refused(json.loads('{"q": "a\\ud800b"}'), ["body"]) == (["body", "q"], "U+D800")
    assert find_refused(json.loads('{"q": ["x", "\\uDFFF"]}'), ["body"]) == (
        ["body", "q", 1], "U+DFFF")
    assert find_refused(json.loads('{"q": "\\ud83d\\ude00 \\u202e\\u2066 \\u00e9"}'),
                        ["body"]) is None
    assert refused_char("ok \u202e bidi") is None and refused_char("\x00") == "U+0000"
    deep: Any = "\x00"
    for _ in range(100_000):  # far deeper than the recursion limit: iterative walk
        deep = [deep]
    assert find_refused(deep, ["body"]) == (["body", *[0] * 100_000], "U+0000")


def test_a_surrogate_escape_in_the_raw_body_is_a_422(tmp_path: Path) -> None:
    client = _app(tmp_path)
    response = client.post("/v1/search", content=b'{"query": "a\\udc00b"}',
                           headers={"content-type": "application/json"})
    _refused(response, ["body", "query"], "U+DC00")
    # in a key: the location names it escaped (a lone surrogate cannot be sent back)
    response = client.post("/v1/search", content=b'{"query": "q", "filters": {"metadata": '
                           b'{"k\\ud800": "v"}}}', headers={"content-type": "application/json"})
    _refused(response, ["body", "filters", "metadata", "k\\ud800"], "U+D800")


def test_an_escaped_backslash_is_not_a_nul(tmp_path: Path) -> None:
    from groundwire.api.text_guard import _check_body

    assert _check_body(b'{"query": "C:\\\\u0000 is text"}') is None
    assert _check_body(b'{"query": "a\\u0000"}') == (["body", "query"], "U+0000")


def test_a_request_without_a_key_still_gets_401(tmp_path: Path) -> None:
    client = _app(tmp_path, dev_mode=False)
    response = client.post("/v1/search", json={"query": "a\x00b"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.missing_key"


def test_a_body_over_the_limit_is_still_413_first(tmp_path: Path) -> None:
    client = _app(tmp_path)
    response = client.post("/v1/search", json={"query": "\x00" + "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request.too_large"
