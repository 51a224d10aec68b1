"""``Client``: the synchronous Groundwire API client (httpx). Every method raises
``GroundwireAPIError`` for an error answer; 429/503 are retried per ``RetryPolicy``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx
from tenacity import Retrying

from groundwire.client import calls
from groundwire.client.calls import Call, FileSpec
from groundwire.client.errors import GroundwireAPIError
from groundwire.client.models import (
    AskEvent,
    AskResponse,
    DocumentOut,
    DocumentsResponse,
    Feedback,
    SearchResponse,
    SseDecoder,
)
from groundwire.client.retry import RetryPolicy


class Client:
    """``Client(base_url, api_key=None, timeout=60.0, retry=RetryPolicy())``. The key is sent
    as ``Authorization: Bearer``; without one (and no ``GROUNDWIRE_API_KEY``) requests go
    keyless (a dev-mode server). ``transport`` / ``http_client`` are for tests and proxies.
    Use as a context manager, or call ``close()``."""

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 60.0,
                 retry: RetryPolicy | None = None,
                 http_client: httpx.Client | None = None) -> None:
        self.retry = retry or RetryPolicy()
        self._http = http_client or httpx.Client(base_url=base_url, timeout=timeout)
        self._http.headers.update(calls.headers(api_key))

    def __repr__(self) -> str:  # never the key
        return f"Client({str(self._http.base_url)!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ the API
    def search(self, query: str, *, index: str = "default", top_k: int = 10,
               uri_prefix: str | None = None, media_type: str | None = None,
               metadata: Mapping[str, Any] | None = None) -> SearchResponse:
        """Hybrid search; hits only from documents the key may read."""
        result: SearchResponse = self._run(
            calls.search(query, index, top_k, uri_prefix, media_type, metadata))
        return result

    def ask(self, question: str, *, index: str = "default", uri_prefix: str | None = None,
            media_type: str | None = None,
            metadata: Mapping[str, Any] | None = None) -> AskResponse:
        """A cited answer, or an abstention (``abstained``)."""
        result: AskResponse = self._run(
            calls.ask(question, index, uri_prefix, media_type, metadata))
        return result

    def ask_stream(self, question: str, *, index: str = "default",
                   uri_prefix: str | None = None, media_type: str | None = None,
                   metadata: Mapping[str, Any] | None = None) -> Iterator[AskEvent]:
        """The answer as events (``token`` ... ``done``); an ``error`` event raises."""
        call = calls.ask(question, index, uri_prefix, media_type, metadata, stream=True)
        response = self._send(call, stream=True)
        try:
            if response.is_error:
                raise GroundwireAPIError.from_response(response)
            decoder = SseDecoder()
            for line in response.iter_lines():
                event = decoder.feed(line)
                if event is None:
                    continue
                if event.event == "error":
                    raise GroundwireAPIError.from_event(event.data, response)
                yield event
        finally:
            response.close()

    def documents(self, *, index: str = "default", state: str | None = None,
                  limit: int = 100, offset: int = 0) -> DocumentsResponse:
        """Documents of ``index`` the key may read, with counts by state."""
        result: DocumentsResponse = self._run(calls.documents(index, state, limit, offset))
        return result

    def document(self, document_id: int) -> DocumentOut:
        """One readable document (``not_found`` otherwise, whatever the reason)."""
        result: DocumentOut = self._run(calls.document(document_id))
        return result

    def upload(self, files: Sequence[FileSpec], *, index: str = "default",
               **fields: str) -> dict[str, Any]:
        """Upload files (``POST /v1/documents/upload``); the server's per-file results."""
        result: dict[str, Any] = self._run(calls.upload(files, index, fields))
        return result

    def feedback(self, record_id: str, helpful: bool, *, comment: str | None = None,
                 expected_passage: str | None = None) -> Feedback:
        """Thumbs up/down on a search or answer (its ``record_id``)."""
        result: Feedback = self._run(
            calls.feedback(record_id, helpful, comment, expected_passage))
        return result

    def records(self, *, since: datetime | None = None, until: datetime | None = None,
                index: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Answer records (operator keys), one dict per record."""
        result: list[dict[str, Any]] = self._run(calls.records(since, until, index, kind))
        return result

    # ------------------------------------------------------------------ plumbing
    def _run(self, call: Call) -> Any:
        response = self._send(call, stream=False)
        if response.is_error:
            raise GroundwireAPIError.from_response(response)
        return call.parse(response)

    def _send(self, call: Call, *, stream: bool) -> httpx.Response:
        def once() -> httpx.Response:
            request = self._http.build_request(
                call.method, call.path, params=call.params, json=call.json,
                files=call.files, data=call.data, headers=dict(call.headers))
            response = self._http.send(request, stream=stream)
            if stream and response.is_error:
                response.read()  # small error body; frees the connection before a retry
            return response

        response: httpx.Response = Retrying(**self.retry.tenacity_args())(once)
        return response

