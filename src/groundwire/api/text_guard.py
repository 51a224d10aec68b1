"""Text PostgreSQL cannot store is refused at the edge (HTTP 422,
``request.invalid_character``).

PostgreSQL ``text`` and ``jsonb`` refuse U+0000 (NUL), and a lone UTF-16 surrogate
(U+D800–U+DFFF, possible in JSON as ``"\\ud800"``) cannot even be encoded as UTF-8. Such a
string used to reach the store: a search with a NUL poisoned the batched audit insert and
every other event of its batch, a NUL in an ingest path gave a 500, and
``/v1/records?index=a%00b`` failed after its 200 was sent.

Contract of ``TextGuardMiddleware`` (ASGI, inside the API-key check and the body size limit,
so a request without a key still gets its 401 and an oversized body its 413):

* Every string a route can receive is checked before any route runs: the (percent-decoded)
  path, every query parameter name and value, and for a request with a JSON body (a
  ``application/json`` or ``+json`` content type, or none — FastAPI parses those as JSON)
  every key and string value at any depth.
* The first refused character answers 422 in the standard error shape, code
  ``request.invalid_character``, ``details`` a list like the validation errors':
  ``[{"loc": ["body", "documents", 0, "text"], "msg": "...", "type": "invalid_character",
  "char": "U+0000"}]`` — the offending value is never echoed (a key in ``loc`` that holds a
  refused character shows it as a ``\\u0000`` escape).
* Other characters pass, bidirectional controls included (PostgreSQL stores them; displaying
  them safely is the client's job). A body that is not valid JSON passes untouched, for the
  route's own validation to answer.
* A body is parsed here only when its raw bytes contain a ``\\u0000`` or ``\\uD8xx``–``\\uDFxx``
  escape (the only ways JSON can carry these characters), so ordinary requests pay one
  regular-expression scan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from groundwire.api.errors import error_response

CODE = "request.invalid_character"
MESSAGE = ("text contains a character that cannot be stored: U+0000 (NUL) or an unpaired "
           "UTF-16 surrogate (U+D800-U+DFFF)")
REFUSED = re.compile("[\x00\ud800-\udfff]")
_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF][0-9a-fA-F]{2})")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Loc = list[str | int]


def refused_char(text: str) -> str | None:
    """``"U+XXXX"`` of the first character of ``text`` PostgreSQL refuses, else None."""
    match = REFUSED.search(text)
    return None if match is None else f"U+{ord(match.group()):04X}"


def _printable(part: str | int) -> str | int:
    """A location part that can be sent back: a key holding a refused character names it as
    a ``\\uXXXX`` escape (a lone surrogate cannot even be encoded in the response)."""
    if isinstance(part, str):
        return REFUSED.sub(lambda m: f"\\u{ord(m.group()):04x}", part)
    return part


def find_refused(value: Any, loc: Loc) -> tuple[Loc, str] | None:
    """(location, ``"U+XXXX"``) of the first refused character in a decoded JSON value
    (keys included), else None. Iterative: a deeply nested body cannot overflow the stack."""
    for path, text in _strings(value, loc):
        char = refused_char(text)
        if char is not None:
            return path, char
    return None


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    stack: list[tuple[Any, Loc]] = [(value, loc)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                yield [*where, key], key
                stack.append((child, [*where, key]))
        elif isinstance(item, list):
            stack.extend((child, [*where, i]) for i, child in reversed(list(enumerate(item))))


def _json_body(scope: Any) -> bool:
    if scope.get("method", "GET") not in _BODY_METHODS:
        return False
    content_type = next((v for k, v in scope.get("headers", ()) if k == b"content-type"), None)
    if content_type is None:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/")
                                             and media.endswith(b"+json"))


class TextGuardMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = self._check_url(scope)
        if found is None and _json_body(scope):
            body, receive = await _buffered(receive)
            found = _check_body(body)
        if found is None:
            await self.app(scope, receive, send)
            return
        loc, char = found
        details = [{"loc": [_printable(part) for part in loc],
                    "msg": f"{char} cannot be stored", "type": "invalid_character",
                    "char": char}]
        response = error_response(Request(scope), 422, CODE, MESSAGE, details)
        await response(scope, receive, send)

    @staticmethod
    def _check_url(scope: Any) -> tuple[Loc, str] | None:
        char = refused_char(scope.get("path", ""))
        if char is not None:
            return ["path"], char
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True):  # as Starlette decodes
            for text in (name, value):
                char = refused_char(text)
                if char is not None:
                    return ["query", name], char
        return None


def _check_body(body: bytes) -> tuple[Loc, str] | None:
    if not _ESCAPE.search(body):
        return None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # not JSON: the route's validation answers
        return None
    return find_refused(value, ["body"])


async def _buffered(receive: Any) -> tuple[bytes, Any]:
    """The whole request body, and a ``receive`` that replays it, then delegates (so a
    streaming route still learns of a client disconnect)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # disconnected before the body was complete
            pending = [message]
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
            break
    body = b"".join(chunks)

    async def replay() -> Any:
        if pending:
            return pending.pop(0)
        return await receive()

    return body, replay
