"""The API calls as plain descriptions (method, path, body, how to read the answer), shared
by ``Client`` and ``AsyncClient`` so the two cannot drift apart."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from groundwire.client.models import (
    AskResponse,
    DocumentOut,
    DocumentsResponse,
    Feedback,
    SearchResponse,
)

FileSpec = str | Path | tuple[str, bytes] | tuple[str, bytes, str]
"""A file to upload: a path, or ``(name, content)`` / ``(name, content, media_type)``."""


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    parse: Callable[[httpx.Response], Any]
    params: Mapping[str, Any] | None = None
    json: Any = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None
    data: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def _model(model: Any) -> Callable[[httpx.Response], Any]:
    return lambda response: model.model_validate(response.json())


def _filters(uri_prefix: str | None, media_type: str | None,
             metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if uri_prefix is not None:
        out["uri_prefix"] = uri_prefix
    if media_type is not None:
        out["media_type"] = media_type
    if metadata is not None:
        out["metadata"] = dict(metadata)
    return out


def search(query: str, index: str, top_k: int, uri_prefix: str | None,
           media_type: str | None, metadata: Mapping[str, Any] | None) -> Call:
    body = {"query": query, "index": index, "top_k": top_k,
            "filters": _filters(uri_prefix, media_type, metadata)}
    return Call("POST", "/v1/search", _model(SearchResponse), json=body)


def ask(question: str, index: str, uri_prefix: str | None, media_type: str | None,
        metadata: Mapping[str, Any] | None, *, stream: bool = False) -> Call:
    body = {"question": question, "index": index, "stream": stream,
            "filters": _filters(uri_prefix, media_type, metadata)}
    return Call("POST", "/v1/ask", _model(AskResponse), json=body,
                headers={"Accept": "text/event-stream"} if stream else {})


def documents(index: str, state: str | None, limit: int, offset: int) -> Call:
    params: dict[str, Any] = {"index": index, "limit": limit, "offset": offset}
    if state is not None:
        params["state"] = state
    return Call("GET", "/v1/documents", _model(DocumentsResponse), params=params)


def document(document_id: int) -> Call:
    return Call("GET", f"/v1/documents/{int(document_id)}", _model(DocumentOut))


def upload(files: Sequence[FileSpec], index: str, fields: Mapping[str, str]) -> Call:
    """``POST /v1/documents/upload``: multipart ``files`` (+ ``index`` and any other form
    fields); the answer (per-file results) is returned as the server's JSON."""
    parts = []
    for spec in files:
        if isinstance(spec, (str, Path)):
            path = Path(spec)
            parts.append(("files", (path.name, path.read_bytes(), "application/octet-stream")))
        elif len(spec) == 2:
            parts.append(("files", (spec[0], spec[1], "application/octet-stream")))
        else:
            parts.append(("files", (spec[0], spec[1], spec[2])))
    return Call("POST", "/v1/documents/upload", lambda r: r.json(), files=parts,
                data={"index": index, **fields})


def feedback(record_id: str, helpful: bool, comment: str | None,
             expected_passage: str | None) -> Call:
    body: dict[str, Any] = {"record_id": record_id, "helpful": helpful}
    if comment is not None:
        body["comment"] = comment
    if expected_passage is not None:
        body["expected_passage"] = expected_passage
    return Call("POST", "/v1/feedback", _model(Feedback), json=body)


def records(since: datetime | None, until: datetime | None, index: str | None,
            kind: str | None) -> Call:
    params: dict[str, Any] = {"format": "jsonl"}
    for key, value in (("since", since), ("until", until), ("index", index), ("kind", kind)):
        if value is not None:
            params[key] = value.isoformat() if isinstance(value, datetime) else value
    return Call("GET", "/v1/records", _jsonl, params=params)


def _jsonl(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def headers(api_key: str | None) -> dict[str, str]:
    """Default headers: the key (``api_key``, else ``GROUNDWIRE_API_KEY``; none: dev mode)."""
    import os

    from groundwire import __version__

    key = api_key if api_key is not None else os.environ.get("GROUNDWIRE_API_KEY")
    out = {"User-Agent": f"groundwire-client/{__version__}", "Accept": "application/json"}
    if key:
        out["Authorization"] = f"Bearer {key}"
    return out
