"""``AsyncClient``: the asyncio Groundwire API client (httpx), the same methods as
``Client`` as coroutines (``ask_stream`` an async iterator)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx
from tenacity import AsyncRetrying

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


class AsyncClient:
    """``AsyncClient(base_url, api_key=None, timeout=60.0, retry=RetryPolicy())``; see
    ``Client``. Use ``async with``, or ``await aclose()``."""

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 60.0,
                 retry: RetryPolicy | None = None,
                 http_client: httpx.AsyncClient | None = None) -> None:
        self.retry = retry or RetryPolicy()
        self._http = http_client or httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._http.headers.update(calls.headers(api_key))

    def __repr__(self) -> str:  # never the key
        return f"AsyncClient({str(self._http.base_url)!r})"

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ the API
    async def search(self, query: str, *, index: str = "default", top_k: int = 10,
                     uri_prefix: str | None = None, media_type: str | None = None,
                     metadata: Mapping[str, Any] | None = None) -> SearchResponse:
        result: SearchResponse = await self._run(
            calls.search(query, index, top_k, uri_prefix, media_type, metadata))
        return result

    async def ask(self, question: str, *, index: str = "default",
                  uri_prefix: str | None = None, media_type: str | None = None,
                  metadata: Mapping[str, Any] | None = None) -> AskResponse:
        result: AskResponse = await self._run(
            calls.ask(question, index, uri_prefix, media_type, metadata))
        return result

    async def ask_stream(self, question: str, *, index: str = "default",
                         uri_prefix: str | None = None, media_type: str | None = None,
                         metadata: Mapping[str, Any] | None = None) -> AsyncIterator[AskEvent]:
        call = calls.ask(question, index, uri_prefix, media_type, metadata, stream=True)
        response = await self._send(call, stream=True)
        try:
            if response.is_error:
                raise GroundwireAPIError.from_response(response)
            decoder = SseDecoder()
            async for line in response.aiter_lines():
                event = decoder.feed(line)
                if event is None:
                    continue
                if event.event == "error":
                    raise GroundwireAPIError.from_event(event.data, response)
                yield event
        finally:
            await response.aclose()

    async def documents(self, *, index: str = "default", state: str | None = None,
                        limit: int = 100, offset: int = 0) -> DocumentsResponse:
        result: DocumentsResponse = await self._run(
            calls.documents(index, state, limit, offset))
        return result

    async def document(self, document_id: int) -> DocumentOut:
        result: DocumentOut = await self._run(calls.document(document_id))
        return result

    async def upload(self, files: Sequence[FileSpec], *, index: str = "default",
                     **fields: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._run(calls.upload(files, index, fields))
        return result

    async def feedback(self, record_id: str, helpful: bool, *, comment: str | None = None,
                       expected_passage: str | None = None) -> Feedback:
        result: Feedback = await self._run(
            calls.feedback(record_id, helpful, comment, expected_passage))
        return result

    async def records(self, *, since: datetime | None = None, until: datetime | None = None,
                      index: str | None = None,
                      kind: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._run(
            calls.records(since, until, index, kind))
        return result

    # ------------------------------------------------------------------ plumbing
    async def _run(self, call: Call) -> Any:
        response = await self._send(call, stream=False)
        if response.is_error:
            raise GroundwireAPIError.from_response(response)
        return call.parse(response)

    async def _send(self, call: Call, *, stream: bool) -> httpx.Response:
        async def once() -> httpx.Response:
            request = self._http.build_request(
                call.method, call.path, params=call.params, json=call.json,
                files=call.files, data=call.data, headers=dict(call.headers))
            response = await self._http.send(request, stream=stream)
            if stream and response.is_error:
                await response.aread()
            return response

        response: httpx.Response = await AsyncRetrying(**self.retry.tenacity_args())(once)
        return response
