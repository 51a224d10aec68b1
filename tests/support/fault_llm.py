"""A fault-injecting OpenAI-compatible chat server for tests (a real HTTP server on 127.0.0.1).

Usage::

    from support.fault_llm import FaultLLMServer

    with FaultLLMServer(mode="ok") as srv:          # binds 127.0.0.1 on an ephemeral port
        client = openai.OpenAI(base_url=srv.base_url, api_key="sk-test")  # .../v1
        srv.mode = "503"                            # switch at runtime (any thread)
        srv.set_model_mode("gpt-big", "400_context_length")   # per-model override
        srv.script = ["503", "ok"]                  # next call 503, the one after ok
        srv.calls, srv.calls_by_mode, srv.bodies, srv.authorizations, srv.reset()

or, in pytest, import the fixtures (``from support.fault_llm import fault_llm_factory`` in a
conftest or test module; list it in ``__all__`` so ruff does not call the import unused) and
call ``fault_llm_factory(mode="hang")``; every server it made is stopped at teardown. The
``fault_llm`` fixture is one server in mode ``ok``.

Endpoints
---------
``POST /v1/chat/completions`` (``"stream": false`` -> one JSON body; ``"stream": true`` ->
``text/event-stream`` with ``data: {chunk}\\n\\n`` events ending in ``data: [DONE]\\n\\n``) and
``GET /v1/models``. Anything else: 404 with an OpenAI error body. Responses are HTTP/1.1 with
keep-alive; streams use chunked transfer encoding.

Which mode a chat request gets (decided when its body has been read, under a lock): the next
entry of ``srv.script`` if any is left (it is consumed), else the override for the request's
``model`` (``srv.set_model_mode``), else ``srv.mode``. ``GET /v1/models`` follows ``srv.mode``
only, consumes no script entry and is counted in ``srv.models_calls``, not ``srv.calls``.

Modes (exact behaviour)
-----------------------
``ok``
    200. Answer text ``srv.reply`` (a string, or a callable taking the parsed request body and
    returning the string; default :data:`DEFAULT_REPLY`), ``finish_reason`` ``"stop"``.
    Non-stream: a ``chat.completion`` object with ``usage`` (prompt_tokens, completion_tokens,
    total_tokens; tokens are approximated as whitespace-separated words). Stream: a first chunk
    with ``delta {"role": "assistant", "content": ""}``, one chunk per word of the answer (the
    deltas concatenate to exactly the answer), a chunk with empty delta and ``finish_reason``,
    then ``[DONE]``. ``usage`` is in the final chunk before ``[DONE]``: when the request asks
    ``stream_options.include_usage`` it is an extra chunk with ``choices: []`` (exactly like
    OpenAI), otherwise it rides on the ``finish_reason`` chunk. ``srv.chunk_delay`` seconds
    (default 0) are slept between stream events.
``ok_slow``
    Sends nothing for ``srv.slow_delay`` seconds (default 0.8), then behaves as ``ok``.
``refuse``
    Connection refused. As ``srv.mode`` it closes the listening socket (the port stays bound
    by a non-listening socket, so connecting to ``srv.base_url`` gets ``ECONNREFUSED`` and no
    other program can take the port) and drops idle keep-alive connections; setting another
    mode listens again on the same port, so ``srv.base_url`` never changes. Refused
    connections never reach the server and are not counted. From ``srv.script`` or a
    per-model override the connection is already accepted: the request is counted and the
    connection is reset (RST) without a response byte.
``hang``
    Reads the request, never sends a byte; holds the connection until the client closes it
    or the server stops.
``slow_first_byte``
    Sends nothing for ``srv.first_byte_delay`` seconds (default 30), then behaves as ``ok``
    (given up early if the client disconnects).
``stall_mid_stream``
    Stream: sends the headers, the role chunk and ``srv.stall_chunks`` (default 2) content
    chunks, then stalls forever (until the client closes or the server stops). Non-stream:
    sends the headers (with the ``Content-Length`` of a full answer), then stalls the body.
``429_short`` / ``429_long``
    429 with ``Retry-After: 2`` / ``Retry-After: 120``, ``x-ratelimit-*`` headers and an
    OpenAI error body (``type`` ``"requests"``, ``code`` ``"rate_limit_exceeded"``).
``500`` / ``503``
    That status with an OpenAI ``server_error`` JSON body.
``502``
    502 with an HTML body (``text/html``), as an nginx / load balancer in front would send.
``400_context_length``
    400, ``{"error": {"type": "invalid_request_error", "param": "messages",
    "code": "context_length_exceeded", "message": "This model's maximum context length ..."}}``.
``401``
    401, ``{"error": {"type": "invalid_request_error", "code": "invalid_api_key",
    "message": "Incorrect API key provided: sk-ab***yz. ..."}}``.
``malformed_json``
    Non-stream: 200 ``application/json`` whose body is the first half of a valid completion
    (not parseable JSON). Stream: 200 event stream whose two ``data:`` events are cut-off
    JSON, then a normal ``data: [DONE]``.
``empty``
    200, valid shape, content ``""`` (``completion_tokens`` 0, ``finish_reason`` ``"stop"``);
    stream: role chunk, finish chunk, ``[DONE]``.
``truncated_sse``
    Stream: role chunk and the first half of the answer's word chunks, then the connection is
    closed with neither ``finish_reason`` nor ``[DONE]`` nor the chunked-encoding terminator
    (httpx raises ``RemoteProtocolError``). Non-stream: the headers with the full
    ``Content-Length`` and half the body, then close.
``repeat_loop``
    Runaway repetition: the content is ``"the "`` repeated ``srv.repeat_count`` times
    (default 5000), ``finish_reason`` ``"length"``; stream: one chunk per ``"the "``.
``huge_body``
    200, a valid completion whose content is ``srv.huge_bytes`` (default 10 MiB) of text, so
    the body exceeds 10 MiB; stream: the same content in 64 KiB chunks, then ``[DONE]``.

Recording (thread-safe; every getter returns a copy)
----------------------------------------------------
``calls`` (chat requests received), ``calls_by_mode`` (``Counter`` of the mode each got),
``requests`` (:class:`ReceivedRequest` records: path, headers, parsed body, mode), ``bodies``
(parsed JSON bodies), ``authorizations`` / ``last_authorization`` (``Authorization`` header
values, ``None`` when absent), ``models_calls``, ``server_errors`` (unexpected exceptions inside
the server; should stay empty). ``reset()`` clears all of these and any remaining script; the
mode and per-model overrides are kept.

Design: an asyncio server (``asyncio.start_server``) on its own event loop in one daemon
thread, with ``h11`` for HTTP/1.1 framing. ASGI servers hide the transport, but fault
injection needs it: stalling after the headers, closing a chunked stream without its
terminator, resetting a connection, closing and reopening the listening socket. ``stop()``
cancels every connection task and aborts its transport, so it returns promptly even while
handlers stall, and it leaves no thread, socket or event loop behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import h11
import pytest

DEFAULT_REPLY = "Paris is the capital of France [1]."
DEFAULT_MODEL = "fault-llm"

MODES: frozenset[str] = frozenset(
    {
        "ok", "ok_slow", "refuse", "hang", "slow_first_byte", "stall_mid_stream",
        "429_short", "429_long", "500", "502", "503", "400_context_length", "401",
        "malformed_json", "empty", "truncated_sse", "repeat_loop", "huge_body",
    }
)

_STOP_TIMEOUT_S = 10.0
_READ_SIZE = 65536
_STREAM_BATCH_BYTES = 65536
_HUGE_CHUNK_BYTES = 65536
_CONTEXT_WINDOW = 8192
_WORD = re.compile(r"\s*\S+\s*")

Reply = str | Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class ReceivedRequest:
    """One chat completion request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # the parsed JSON body, or None when it was not JSON
    raw_body: bytes
    mode: str  # the mode the server applied to it

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class _Exchange:
    """One request being answered on one connection."""

    conn: h11.Connection
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    body: dict[str, Any]
    model: str
    valid: bool  # the body is a JSON object with a "messages" list
    stream: bool
    include_usage: bool
    request_id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:24]}")
    created: int = field(default_factory=lambda: int(time.time()))


@dataclass
class _Connection:
    writer: asyncio.StreamWriter
    idle: bool = True


class _Reset(Exception):
    """Raised inside a connection handler to reset the connection without a response."""


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown fault mode {mode!r}; known: {sorted(MODES)}")
    return mode


def _error_body(message: str, type_: str, code: str | None = None, param: str | None = None
                ) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _words(text: str) -> list[str]:
    """Split ``text`` into pieces that concatenate back to exactly ``text``."""
    pieces = _WORD.findall(text)
    rest = text[len("".join(pieces)):]
    if rest:  # whitespace-only text, or trailing whitespace not captured
        pieces.append(rest)
    return pieces


def _count_tokens(text: str) -> int:
    return len(text.split())


def _prompt_tokens(body: dict[str, Any]) -> int:
    total = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += _count_tokens(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    total += _count_tokens(part["text"])
    return total


def _mask_key(authorization: str | None) -> str:
    key = (authorization or "").removeprefix("Bearer ").strip()
    if len(key) <= 6:
        return "***"
    return f"{key[:5]}{'*' * 8}{key[-2:]}"


class FaultLLMServer:
    """An OpenAI-compatible chat server on 127.0.0.1 whose failure mode is switched per request.

    Contract: ``start()`` (or ``with``) returns once the port is bound (and listening unless
    the mode is ``refuse``); ``base_url`` is ``http://127.0.0.1:PORT/v1`` and stays the same
    for the server's life; ``stop()`` returns within seconds even while requests stall, and
    raises if the server thread did not finish. All public attributes and properties may be
    used from any thread except the server's own (``reply`` callables run on it).
    """

    def __init__(
        self,
        mode: str = "ok",
        *,
        reply: Reply = DEFAULT_REPLY,
        model_modes: dict[str, str] | None = None,
        script: list[str] | None = None,
        slow_delay: float = 0.8,
        first_byte_delay: float = 30.0,
        chunk_delay: float = 0.0,
        stall_chunks: int = 2,
        repeat_count: int = 5000,
        huge_bytes: int = 10 * 1024 * 1024,
        models: tuple[str, ...] = (DEFAULT_MODEL,),
    ) -> None:
        self.reply: Reply = reply
        self.slow_delay = slow_delay
        self.first_byte_delay = first_byte_delay
        self.chunk_delay = chunk_delay
        self.stall_chunks = stall_chunks
        self.repeat_count = repeat_count
        self.huge_bytes = huge_bytes
        self.models = models
        self._lock = threading.Lock()
        self._mode = _check_mode(mode)
        self._model_modes = {k: _check_mode(v) for k, v in (model_modes or {}).items()}
        self._script = [_check_mode(m) for m in (script or [])]
        self._calls_by_mode: Counter[str] = Counter()
        self._requests: list[ReceivedRequest] = []
        self._models_calls = 0
        self._server_errors: list[str] = []
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._thread_error: BaseException | None = None
        # Owned by the server's event loop thread:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._listener: asyncio.Server | None = None
        self._placeholder: socket.socket | None = None  # bound, not listening (refuse mode)
        self._connections: dict[asyncio.Task[None], _Connection] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FaultLLMServer:
        """Start the server thread; return once it is bound (raises if binding failed)."""
        if self._thread is not None:
            raise RuntimeError("FaultLLMServer already started")
        self._thread = threading.Thread(target=self._run, name="fault-llm", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join(_STOP_TIMEOUT_S)
            raise RuntimeError("FaultLLMServer failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        """Stop serving: drop every connection (stalled ones included) and join the thread."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stopping.set)
        thread.join(_STOP_TIMEOUT_S)
        if thread.is_alive():
            raise RuntimeError(f"FaultLLMServer thread did not stop within {_STOP_TIMEOUT_S} s")
        if self._thread_error is not None:
            raise RuntimeError("FaultLLMServer thread failed") from self._thread_error

    def __enter__(self) -> FaultLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FaultLLMServer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` (refuses connections while the mode is ``refuse``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- configuration -----------------------------------------------------------------------

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        """Switch the server-wide mode; entering/leaving ``refuse`` is done before returning."""
        with self._lock:
            self._mode = _check_mode(value)
        self._on_loop(self._sync_listening())

    @property
    def model_modes(self) -> dict[str, str]:
        with self._lock:
            return dict(self._model_modes)

    @model_modes.setter
    def model_modes(self, value: dict[str, str]) -> None:
        checked = {k: _check_mode(v) for k, v in value.items()}
        with self._lock:
            self._model_modes = checked

    def set_model_mode(self, model: str, mode: str | None) -> None:
        """Override the mode for requests naming ``model``; ``None`` removes the override."""
        with self._lock:
            if mode is None:
                self._model_modes.pop(model, None)
            else:
                self._model_modes[model] = _check_mode(mode)

    @property
    def script(self) -> list[str]:
        """The modes the next chat requests get, one each, before overrides and ``mode``."""
        with self._lock:
            return list(self._script)

    @script.setter
    def script(self, modes: list[str]) -> None:
        checked = [_check_mode(m) for m in modes]
        with self._lock:
            self._script = checked

    # -- recording ---------------------------------------------------------------------------

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def calls_by_mode(self) -> Counter[str]:
        with self._lock:
            return Counter(self._calls_by_mode)

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def bodies(self) -> list[Any]:
        with self._lock:
            return [r.body for r in self._requests]

    @property
    def authorizations(self) -> list[str | None]:
        with self._lock:
            return [r.authorization for r in self._requests]

    @property
    def last_authorization(self) -> str | None:
        with self._lock:
            return self._requests[-1].authorization if self._requests else None

    @property
    def models_calls(self) -> int:
        with self._lock:
            return self._models_calls

    @property
    def server_errors(self) -> list[str]:
        with self._lock:
            return list(self._server_errors)

    def reset(self) -> None:
        """Clear counters, recorded requests, server errors and the remaining script."""
        with self._lock:
            self._calls_by_mode.clear()
            self._requests.clear()
            self._models_calls = 0
            self._server_errors.clear()
            self._script.clear()

    def _admit(self, request: ReceivedRequest, model: str | None) -> ReceivedRequest:
        with self._lock:
            if self._script:
                mode = self._script.pop(0)
            elif model is not None and model in self._model_modes:
                mode = self._model_modes[model]
            else:
                mode = self._mode
            admitted = ReceivedRequest(request.method, request.path, request.headers,
                                       request.body, request.raw_body, mode)
            self._requests.append(admitted)
            self._calls_by_mode[mode] += 1
        return admitted

    # -- event loop thread -------------------------------------------------------------------

    def _on_loop(self, coro: Any) -> None:
        loop = self._loop
        if loop is None or not self.running:
            coro.close()
            return
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("FaultLLMServer cannot be reconfigured from its own thread")
        asyncio.run_coroutine_threadsafe(coro, loop).result(_STOP_TIMEOUT_S)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by stop(), never lost
            self._thread_error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            self._port = int(sock.getsockname()[1])
            self._placeholder = sock
            await self._sync_listening()
        except Exception as exc:
            self._startup_error = exc
            self._close_sockets()
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await self._shutdown()

    async def _sync_listening(self) -> None:
        """Listen unless the mode is ``refuse``; in ``refuse`` hold the port without listening."""
        refusing = self.mode == "refuse"
        if refusing and self._listener is not None:
            self._listener.close()  # closes the listening socket synchronously
            self._listener = None
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
            self._placeholder = sock
            for conn in list(self._connections.values()):
                if conn.idle:
                    _abort(conn.writer, reset=True)
        elif not refusing and self._listener is None:
            sock, self._placeholder = self._placeholder, None
            assert sock is not None
            self._listener = await asyncio.start_server(
                self._on_connection, sock=sock, backlog=128, limit=_READ_SIZE
            )

    def _close_sockets(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None

    async def _shutdown(self) -> None:
        self._close_sockets()
        connections = list(self._connections.items())
        for task, _ in connections:
            task.cancel()
        await asyncio.gather(*(task for task, _ in connections), return_exceptions=True)
        for _, state in connections:  # a task cancelled before it ran never closed its socket
            if not state.writer.transport.is_closing():
                _abort(state.writer, reset=True)
        await asyncio.sleep(0)  # let the transports' connection_lost callbacks run

    # -- one connection ----------------------------------------------------------------------

    def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback starting our own task: asyncio's wrapper task for a coroutine
        # callback logs an error when it ends cancelled (Python 3.11), which stop() does.
        state = _Connection(writer)
        task = asyncio.get_running_loop().create_task(self._handle(reader, writer, state))
        self._connections[task] = state

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      state: _Connection) -> None:
        reset = False
        try:
            await self._serve(reader, writer, state)
        except asyncio.CancelledError:
            reset = True
            raise
        except _Reset:
            reset = True
        except (ConnectionError, OSError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass  # the client went away or spoke bad HTTP: nothing to answer
        except Exception as exc:
            with self._lock:
                self._server_errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            task = asyncio.current_task()
            if task is not None:
                self._connections.pop(task, None)
            if reset:
                _abort(writer, reset=True)
            else:
                writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 1.0)
            except Exception:  # includes TimeoutError and the connection's own error
                _abort(writer, reset=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     state: _Connection) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_READ_SIZE)
        while True:
            received = await self._receive(conn, reader, state)
            if received is None:
                return
            request, body = received
            keep_alive = await self._dispatch(conn, reader, writer, request, body)
            if not keep_alive or conn.our_state is not h11.DONE:
                return
            if conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()
            state.idle = True

    async def _receive(self, conn: h11.Connection, reader: asyncio.StreamReader,
                       state: _Connection) -> tuple[h11.Request, bytes] | None:
        request: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(_READ_SIZE)
                state.idle = False
                conn.receive_data(data)
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert request is not None
                return request, bytes(body)
            else:  # ConnectionClosed or PAUSED
                return None

    async def _dispatch(self, conn: h11.Connection, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter, request: h11.Request, body: bytes) -> bool:
        method = request.method.decode("ascii")
        path = request.target.decode("latin-1").split("?", 1)[0].rstrip("/")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers}
        if path == "/v1/chat/completions" and method == "POST":
            try:
                parsed: Any = json.loads(body)
            except ValueError:
                parsed = None
            model = parsed.get("model") if isinstance(parsed, dict) else None
            received = self._admit(
                ReceivedRequest(method, path, headers, parsed, body, mode=""),
                model if isinstance(model, str) else None,
            )
            valid = isinstance(parsed, dict) and isinstance(parsed.get("messages"), list)
            if not isinstance(parsed, dict):
                parsed = {}
            stream_options = parsed.get("stream_options") or {}
            exchange = _Exchange(
                conn, reader, writer, parsed, model if isinstance(model, str) else DEFAULT_MODEL,
                valid=valid,
                stream=bool(parsed.get("stream")),
                include_usage=bool(isinstance(stream_options, dict)
                                   and stream_options.get("include_usage")),
            )
            return await self._chat(exchange, received)
        if path == "/v1/models" and method == "GET":
            with self._lock:
                self._models_calls += 1
            return await self._models(conn, reader, writer, headers)
        status = 405 if path in ("/v1/chat/completions", "/v1/models") else 404
        return await _send_json(conn, writer, status, _error_body(
            f"Invalid URL ({method} {path})", "invalid_request_error"))

    async def _models(self, conn: h11.Connection, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter, headers: dict[str, str]) -> bool:
        mode = self.mode
        if mode == "refuse":
            raise _Reset
        if mode in ("hang", "stall_mid_stream"):
            await _until_client_gone(reader)
            return False
        if mode in ("ok_slow", "slow_first_byte"):
            delay = self.slow_delay if mode == "ok_slow" else self.first_byte_delay
            if not await _sleep_unless_gone(reader, delay):
                return False
        if mode in _STATUS_FAULTS:
            return await _send_status_fault(conn, writer, mode, headers.get("authorization"), 0)
        names = list(dict.fromkeys([*self.models, *self.model_modes]))
        listing = {"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "fault-llm"}
            for name in names
        ]}
        if mode == "malformed_json":
            text = json.dumps(listing)
            return await _send_bytes(conn, writer, 200, text[: len(text) // 2].encode(),
                                     "application/json")
        return await _send_json(conn, writer, 200, listing)

    async def _chat(self, ex: _Exchange, received: ReceivedRequest) -> bool:
        mode = received.mode
        if mode == "refuse":
            raise _Reset
        if mode == "hang":
            await _until_client_gone(ex.reader)
            return False
        if mode in ("ok_slow", "slow_first_byte"):
            delay = self.slow_delay if mode == "ok_slow" else self.first_byte_delay
            if not await _sleep_unless_gone(ex.reader, delay):
                return False
            mode = "ok"
        if mode in _STATUS_FAULTS:
            return await _send_status_fault(ex.conn, ex.writer, mode, received.authorization,
                                            _prompt_tokens(ex.body))
        if not ex.valid:
            return await _send_json(ex.conn, ex.writer, 400, _error_body(
                "We could not parse the JSON body of your request, or it has no 'messages' "
                "array.", "invalid_request_error"))
        if mode == "empty":
            return await self._answer(ex, "", "stop")
        if mode == "repeat_loop":
            return await self._answer(ex, "the " * self.repeat_count, "length",
                                      pieces=["the "] * self.repeat_count)
        if mode == "huge_body":
            text = _filler(self.huge_bytes)
            pieces = [text[i:i + _HUGE_CHUNK_BYTES]
                      for i in range(0, len(text), _HUGE_CHUNK_BYTES)]
            return await self._answer(ex, text, "stop", pieces=pieces)
        text = self.reply(ex.body) if callable(self.reply) else self.reply
        if mode == "ok":
            return await self._answer(ex, text, "stop")
        if mode == "stall_mid_stream":
            return await self._stall_mid_stream(ex, text)
        if mode == "truncated_sse":
            return await self._truncated(ex, text)
        if mode == "malformed_json":
            return await self._malformed(ex, text)
        raise AssertionError(f"unhandled mode {mode}")  # pragma: no cover - MODES is closed

    # -- answers -----------------------------------------------------------------------------

    def _usage(self, ex: _Exchange, text: str) -> dict[str, int]:
        prompt, completion = _prompt_tokens(ex.body), _count_tokens(text)
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}

    def _completion(self, ex: _Exchange, text: str, finish_reason: str) -> dict[str, Any]:
        return {
            "id": ex.request_id, "object": "chat.completion", "created": ex.created,
            "model": ex.model, "system_fingerprint": "fp_fault_llm",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text,
                                                 "refusal": None},
                         "logprobs": None, "finish_reason": finish_reason}],
            "usage": self._usage(ex, text),
        }

    def _chunk(self, ex: _Exchange, delta: dict[str, Any], finish_reason: str | None = None,
               usage: dict[str, int] | None = None, *, no_choices: bool = False) -> bytes:
        chunk: dict[str, Any] = {
            "id": ex.request_id, "object": "chat.completion.chunk", "created": ex.created,
            "model": ex.model, "system_fingerprint": "fp_fault_llm",
            "choices": [] if no_choices else [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if usage is not None or ex.include_usage:
            chunk["usage"] = usage
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    def _stream_events(self, ex: _Exchange, pieces: list[str], text: str,
                       finish_reason: str) -> list[bytes]:
        events = [self._chunk(ex, {"role": "assistant", "content": ""})]
        events += [self._chunk(ex, {"content": piece}) for piece in pieces]
        usage = self._usage(ex, text)
        if ex.include_usage:
            events.append(self._chunk(ex, {}, finish_reason))
            events.append(self._chunk(ex, {}, usage=usage, no_choices=True))
        else:
            events.append(self._chunk(ex, {}, finish_reason, usage=usage))
        events.append(b"data: [DONE]\n\n")
        return events

    async def _answer(self, ex: _Exchange, text: str, finish_reason: str,
                      pieces: list[str] | None = None) -> bool:
        if not ex.stream:
            return await _send_json(ex.conn, ex.writer, 200,
                                    self._completion(ex, text, finish_reason))
        pieces = _words(text) if pieces is None else pieces
        _start_stream(ex.conn, ex.writer)
        await self._send_events(ex, self._stream_events(ex, pieces, text, finish_reason))
        ex.writer.write(ex.conn.send(h11.EndOfMessage()))
        await ex.writer.drain()
        return True

    async def _send_events(self, ex: _Exchange, events: list[bytes]) -> None:
        """Write SSE events; batched unless ``chunk_delay`` asks for them one at a time."""
        delay = self.chunk_delay
        batch: list[bytes] = []
        size = 0
        for index, event in enumerate(events):
            if delay > 0 and index > 0:
                await asyncio.sleep(delay)
            batch.append(event)
            size += len(event)
            if delay > 0 or size >= _STREAM_BATCH_BYTES:
                await _send_data(ex.conn, ex.writer, b"".join(batch))
                batch, size = [], 0
        if batch:
            await _send_data(ex.conn, ex.writer, b"".join(batch))

    async def _stall_mid_stream(self, ex: _Exchange, text: str) -> bool:
        if ex.stream:
            _start_stream(ex.conn, ex.writer)
            events = self._stream_events(ex, _words(text), text, "stop")
            await self._send_events(ex, events[: 1 + self.stall_chunks])
        else:
            body = json.dumps(self._completion(ex, text, "stop")).encode()
            ex.writer.write(ex.conn.send(_response(200, "application/json", len(body))))
            await ex.writer.drain()
        await _until_client_gone(ex.reader)
        return False

    async def _truncated(self, ex: _Exchange, text: str) -> bool:
        if ex.stream:
            pieces = _words(text)
            _start_stream(ex.conn, ex.writer)
            events = self._stream_events(ex, pieces, text, "stop")
            await self._send_events(ex, events[: 1 + len(pieces) // 2])
        else:
            body = json.dumps(self._completion(ex, text, "stop")).encode()
            ex.writer.write(ex.conn.send(_response(200, "application/json", len(body))))
            await _send_data(ex.conn, ex.writer, body[: len(body) // 2])
        return False  # close: no terminator, no [DONE]

    async def _malformed(self, ex: _Exchange, text: str) -> bool:
        if not ex.stream:
            body = json.dumps(self._completion(ex, text, "stop")).encode()
            return await _send_bytes(ex.conn, ex.writer, 200, body[: len(body) // 2],
                                     "application/json")
        _start_stream(ex.conn, ex.writer)
        events = []
        for piece in _words(text)[:2] or [text]:
            good = self._chunk(ex, {"content": piece})
            events.append(good[: len(good) // 2].rstrip(b"\n") + b"\n\n")
        events.append(b"data: [DONE]\n\n")
        await self._send_events(ex, events)
        ex.writer.write(ex.conn.send(h11.EndOfMessage()))
        await ex.writer.drain()
        return True


# -- status faults ---------------------------------------------------------------------------

_STATUS_FAULTS: frozenset[str] = frozenset(
    {"429_short", "429_long", "500", "502", "503", "400_context_length", "401"}
)

_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


async def _send_status_fault(conn: h11.Connection, writer: asyncio.StreamWriter, mode: str,
                             authorization: str | None, prompt_tokens: int) -> bool:
    if mode in ("429_short", "429_long"):
        retry_after = "2" if mode == "429_short" else "120"
        body = _error_body(
            "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. "
            f"Please try again in {retry_after}s.", "requests", code="rate_limit_exceeded")
        return await _send_json(conn, writer, 429, body, [
            ("retry-after", retry_after), ("x-ratelimit-limit-requests", "3"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", f"{retry_after}s"),
        ])
    if mode == "500":
        return await _send_json(conn, writer, 500, _error_body(
            "The server had an error while processing your request. Sorry about that!",
            "server_error"))
    if mode == "502":
        return await _send_bytes(conn, writer, 502, _BAD_GATEWAY_HTML, "text/html")
    if mode == "503":
        return await _send_json(conn, writer, 503, _error_body(
            "The server is overloaded or not ready yet.", "server_error"))
    if mode == "400_context_length":
        return await _send_json(conn, writer, 400, _error_body(
            f"This model's maximum context length is {_CONTEXT_WINDOW} tokens. However, your "
            f"messages resulted in {max(prompt_tokens, _CONTEXT_WINDOW + 1)} tokens. Please "
            "reduce the length of the messages.",
            "invalid_request_error", code="context_length_exceeded", param="messages"))
    if mode == "401":
        return await _send_json(conn, writer, 401, _error_body(
            f"Incorrect API key provided: {_mask_key(authorization)}. You can find your API key "
            "at https://platform.openai.com/account/api-keys.",
            "invalid_request_error", code="invalid_api_key"))
    raise AssertionError(f"not a status fault: {mode}")  # pragma: no cover


# -- HTTP helpers ----------------------------------------------------------------------------


def _response(status: int, content_type: str, length: int | None = None,
              extra: list[tuple[str, str]] | None = None) -> h11.Response:
    headers = [("content-type", content_type), ("server", "fault-llm"),
               ("x-request-id", f"req_{uuid.uuid4().hex[:16]}")]
    if length is not None:
        headers.append(("content-length", str(length)))
    headers += extra or []
    return h11.Response(status_code=status, headers=headers)


async def _send_bytes(conn: h11.Connection, writer: asyncio.StreamWriter, status: int,
                      body: bytes, content_type: str,
                      extra: list[tuple[str, str]] | None = None) -> bool:
    writer.write(conn.send(_response(status, content_type, len(body), extra)))
    writer.write(conn.send(h11.Data(data=body)))
    writer.write(conn.send(h11.EndOfMessage()))
    await writer.drain()
    return True


async def _send_json(conn: h11.Connection, writer: asyncio.StreamWriter, status: int,
                     obj: Any, extra: list[tuple[str, str]] | None = None) -> bool:
    return await _send_bytes(conn, writer, status, json.dumps(obj).encode(),
                             "application/json", extra)


def _start_stream(conn: h11.Connection, writer: asyncio.StreamWriter) -> None:
    writer.write(conn.send(_response(200, "text/event-stream; charset=utf-8",
                                     extra=[("cache-control", "no-cache")])))


async def _send_data(conn: h11.Connection, writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(conn.send(h11.Data(data=data)))
    await writer.drain()


async def _until_client_gone(reader: asyncio.StreamReader) -> None:
    """Return when the client closes the connection (anything it sends is discarded)."""
    while await reader.read(_READ_SIZE):
        pass


async def _sleep_unless_gone(reader: asyncio.StreamReader, delay: float) -> bool:
    """Sleep ``delay`` seconds; False (early) if the client closed the connection meanwhile."""
    try:
        await asyncio.wait_for(_until_client_gone(reader), delay)
    except TimeoutError:
        return True
    return False


def _abort(writer: asyncio.StreamWriter, *, reset: bool) -> None:
    """Close the connection at once, dropping unsent data; with ``reset`` send a TCP RST."""
    sock = writer.get_extra_info("socket")
    if reset and sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _filler(size: int) -> str:
    unit = "lorem ipsum dolor sit amet "
    return (unit * (size // len(unit) + 1))[:size]


# -- pytest fixtures -------------------------------------------------------------------------


@pytest.fixture
def fault_llm_factory() -> Iterator[Callable[..., FaultLLMServer]]:
    """``make(mode="ok", **kwargs)`` starts a :class:`FaultLLMServer`; all stop at teardown."""
    servers: list[FaultLLMServer] = []

    def make(mode: str = "ok", **kwargs: Any) -> FaultLLMServer:
        server = FaultLLMServer(mode, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def fault_llm(fault_llm_factory: Callable[..., FaultLLMServer]) -> FaultLLMServer:
    """One running :class:`FaultLLMServer` in mode ``ok``."""
    return fault_llm_factory()
