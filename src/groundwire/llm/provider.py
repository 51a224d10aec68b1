"""One OpenAI-compatible chat completions endpoint over httpx (OpenAI, Azure OpenAI, vLLM,
Ollama, llama.cpp server, LM Studio).

Contract: ``complete`` returns a ``Completion`` or raises ``ProviderError``; ``stream`` yields
``str`` deltas and then exactly one ``Completion`` (the whole text and its usage), or raises
``ProviderError`` part-way. Every way an upstream can fail becomes a coded ``ProviderError``:

    llm.connect          connection refused / DNS / TLS          retryable
    llm.timeout          no first byte within first_token_timeout_s, or silence longer than
                         stall_timeout_s between chunks, or total_timeout_s exceeded   retryable
    llm.http_429         rate limited (``retry_after`` from Retry-After)               retryable
    llm.http_5xx         500/502/503/...                                               retryable
    llm.context_length   400 context_length_exceeded                                   not retryable
    llm.http_400         other 4xx                                                     not retryable
    llm.auth             401/403                                                       not retryable
    llm.malformed        body or SSE data that is not the chat completions JSON        retryable
    llm.empty            a completion with no text                                     retryable
    llm.truncated        a stream that ends without finish_reason / [DONE], or a
                         connection closed mid-body                                    retryable
    llm.repetition       runaway repetition (the same few tokens over and over)        retryable
    llm.too_large        a body over max_response_bytes                                retryable

"Retryable" means calling the same provider again could help; the fallback chain moves to the
next provider after any failure.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from groundwire.errors import ProviderError
from groundwire.llm.base import Completion, Usage
from groundwire.settings import ProviderSettings

REPETITION_MIN_WORDS = 48
REPETITION_MAX_DISTINCT = 4
COMPRESSIBLE_TAIL_CHARS = 1200
COMPRESSION_RATIO_FLOOR = 0.08  # ordinary prose compresses to ~0.35-0.5 of its size


class OpenAICompatibleProvider:
    """Calls ``{base_url}/chat/completions``. Construct once per provider; ``aclose`` at exit."""

    def __init__(
        self, settings: ProviderSettings, *, max_response_bytes: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self.model = settings.model
        self._max_bytes = max_response_bytes
        headers = {"Accept": "application/json", **settings.headers}
        if settings.api_key is not None and settings.api_key.get_secret_value():
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        self._client = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(
                connect=settings.connect_timeout_s,
                read=max(settings.first_token_timeout_s, settings.stall_timeout_s),
                write=settings.connect_timeout_s,
                pool=settings.connect_timeout_s,
            ),
            transport=transport,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    # ---------------------------------------------------------------- public calls
    async def complete(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float,
        timeout_s: float,
    ) -> Completion:
        payload = self._payload(messages, max_tokens, temperature, stream=False)
        try:
            async with asyncio.timeout(min(timeout_s, self.settings.total_timeout_s)):
                opener = _OpenResponse(self, payload)
                async with opener as response:
                    body = b""
                    async for chunk in self._timed_chunks(response, opener.started):
                        body += chunk
                        self._check_size(len(body))
        except TimeoutError:
            raise ProviderError(f"{self.name}: total timeout", code="llm.timeout") from None
        return self._parse_completion(body)

    async def stream(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float,
        timeout_s: float,
    ) -> AsyncIterator[str | Completion]:
        payload = self._payload(messages, max_tokens, temperature, stream=True)
        parts: list[str] = []
        usage: Usage | None = None
        finish: str | None = None
        done = False
        size = 0
        try:
            async with asyncio.timeout(min(timeout_s, self.settings.total_timeout_s)):
                opener = _OpenResponse(self, payload)
                async with opener as response:
                    buffer = b""
                    async for chunk in self._timed_chunks(response, opener.started):
                        size += len(chunk)
                        self._check_size(size)
                        buffer += chunk
                        *lines, buffer = buffer.split(b"\n")
                        for line in lines:
                            event = _sse_data(line)
                            if event is None:
                                continue
                            if event == "[DONE]":
                                done = True
                                break
                            delta, chunk_finish, chunk_usage = self._parse_chunk(event)
                            finish = chunk_finish or finish
                            usage = chunk_usage or usage
                            if delta:
                                parts.append(delta)
                                yield delta
                                if len(parts) % 16 == 0:
                                    _check_repetition(self.name, "".join(parts))
                        if done:
                            break
        except TimeoutError:
            raise ProviderError(f"{self.name}: total timeout", code="llm.timeout") from None
        text = "".join(parts)
        if not done and finish is None:
            raise ProviderError(f"{self.name}: stream ended before the answer was complete",
                                code="llm.truncated")
        _check_text(self.name, text)
        yield Completion(text, self.model, finish, usage)

    # ---------------------------------------------------------------- plumbing
    def _payload(
        self, messages: Sequence[dict[str, str]], max_tokens: int, temperature: float,
        *, stream: bool,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model, "messages": list(messages), "max_tokens": max_tokens,
            "temperature": temperature, "stream": stream,
        }
        if stream and self.settings.stream_usage:
            payload["stream_options"] = {"include_usage": True}
        return payload

    async def _timed_chunks(
        self, response: httpx.Response, started: float
    ) -> AsyncIterator[bytes]:
        """Body chunks; the first must come within first_token_timeout_s of the request,
        each next one within stall_timeout_s of the previous."""
        iterator = response.aiter_raw().__aiter__()
        first_deadline = started + self.settings.first_token_timeout_s
        first = True
        while True:
            wait = (first_deadline - time.monotonic()) if first else self.settings.stall_timeout_s
            try:
                chunk = await asyncio.wait_for(iterator.__anext__(), timeout=max(wait, 0.001))
            except StopAsyncIteration:
                return
            except TimeoutError:
                what = "no first byte" if first else "stream stalled"
                raise ProviderError(f"{self.name}: {what}", code="llm.timeout") from None
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                raise ProviderError(f"{self.name}: connection broke mid-body: {exc}",
                                    code="llm.truncated") from None
            except httpx.TimeoutException:
                raise ProviderError(f"{self.name}: read timeout", code="llm.timeout") from None
            if chunk:
                first = False
                yield chunk

    def _check_size(self, size: int) -> None:
        if size > self._max_bytes:
            raise ProviderError(
                f"{self.name}: response larger than {self._max_bytes} bytes", code="llm.too_large"
            )

    def _parse_completion(self, body: bytes) -> Completion:
        try:
            data = json.loads(body)
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
            finish = choice.get("finish_reason")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError(f"{self.name}: malformed completion body",
                                code="llm.malformed") from None
        if not isinstance(text, str):
            raise ProviderError(f"{self.name}: completion content is not text",
                                code="llm.malformed")
        _check_text(self.name, text)
        return Completion(text, str(data.get("model") or self.model), finish,
                          _usage(data.get("usage")))

    def _parse_chunk(self, event: str) -> tuple[str, str | None, Usage | None]:
        try:
            data = json.loads(event)
            choices = data.get("choices") or []
            delta = ""
            finish = None
            if choices:
                delta = (choices[0].get("delta") or {}).get("content") or ""
                finish = choices[0].get("finish_reason")
        except (ValueError, TypeError, AttributeError):
            raise ProviderError(f"{self.name}: malformed stream chunk",
                                code="llm.malformed") from None
        if not isinstance(delta, str):
            raise ProviderError(f"{self.name}: stream delta is not text", code="llm.malformed")
        return delta, finish, _usage(data.get("usage"))


class _OpenResponse:
    """``async with`` one streamed POST; maps connect errors and HTTP statuses to
    ProviderError and starts the first-token clock."""

    def __init__(self, provider: OpenAICompatibleProvider, payload: dict[str, Any]) -> None:
        self._provider = provider
        self._payload = payload
        self._response: httpx.Response | None = None
        self.started = time.monotonic()

    async def __aenter__(self) -> httpx.Response:
        provider = self._provider
        self.started = time.monotonic()
        request = provider._client.build_request("POST", "chat/completions", json=self._payload)
        try:
            self._response = await asyncio.wait_for(
                provider._client.send(request, stream=True),
                timeout=provider.settings.first_token_timeout_s,
            )
        except TimeoutError:
            raise ProviderError(f"{provider.name}: no response headers in time",
                                code="llm.timeout") from None
        except httpx.ConnectTimeout:
            raise ProviderError(f"{provider.name}: connect timeout", code="llm.connect") from None
        except httpx.ConnectError as exc:
            raise ProviderError(f"{provider.name}: cannot connect: {exc}",
                                code="llm.connect") from None
        except httpx.TimeoutException:
            raise ProviderError(f"{provider.name}: timeout", code="llm.timeout") from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise ProviderError(f"{provider.name}: connection broke: {exc}",
                                code="llm.truncated") from None
        if self._response.status_code >= 400:
            await self._raise_for_status(self._response)
        return self._response

    async def __aexit__(self, *exc: object) -> None:
        if self._response is not None:
            await self._response.aclose()

    async def _raise_for_status(self, response: httpx.Response) -> None:
        name = self._provider.name
        status = response.status_code
        try:
            body = await asyncio.wait_for(response.aread(), timeout=2.0)
            detail = body[:2000].decode("utf-8", "replace")
        except (TimeoutError, httpx.HTTPError):
            detail = ""
        finally:
            await response.aclose()
        if status == 429:
            raise ProviderError(f"{name}: rate limited (429)", code="llm.http_429", status=429,
                                retry_after=_retry_after(response.headers.get("retry-after")))
        if status >= 500:
            raise ProviderError(f"{name}: server error {status}", code="llm.http_5xx",
                                status=status)
        if status in (401, 403):
            raise ProviderError(f"{name}: not authorised ({status})", code="llm.auth",
                                retryable=False, status=status)
        code = "llm.context_length" if "context_length" in detail else "llm.http_400"
        raise ProviderError(f"{name}: request rejected ({status})", code=code, retryable=False,
                            status=status)


def _sse_data(line: bytes) -> str | None:
    text = line.decode("utf-8", "replace").strip()
    if not text.startswith("data:"):
        return None
    return text[5:].strip()


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    try:
        return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))
    except (TypeError, ValueError):
        return None


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None  # an HTTP date: treat as unknown (the chain will not wait for it)


def _check_text(name: str, text: str) -> None:
    if not text.strip():
        raise ProviderError(f"{name}: empty completion", code="llm.empty")
    _check_repetition(name, text)


def _check_repetition(name: str, text: str) -> None:
    if runaway_repetition(text):
        raise ProviderError(f"{name}: runaway repetition", code="llm.repetition")


def runaway_repetition(text: str) -> bool:
    """True when the end of ``text`` is a loop: its last 48 words use at most 4 distinct words,
    or its last 1,200 characters compress below 8% of their size (prose stays above ~35%)."""
    words = text[-4000:].split()
    if len(words) >= REPETITION_MIN_WORDS and (
        len(set(words[-REPETITION_MIN_WORDS:])) <= REPETITION_MAX_DISTINCT
    ):
        return True
    tail = text[-COMPRESSIBLE_TAIL_CHARS:].encode()
    if len(tail) >= COMPRESSIBLE_TAIL_CHARS:
        return len(zlib.compress(tail)) / len(tail) < COMPRESSION_RATIO_FLOOR
    return False
