"""OpenAI-compatible chat completions, answered from Groundwire retrieval.

Any OpenAI SDK or chat client works unchanged: point its base URL at ``http://HOST:PORT/v1``.

* ``model``: ``groundwire`` (the ``default`` index) or ``groundwire/<index>``; ``GET /v1/models``
  lists them.
* The question is the last ``user`` message (text parts of a multi-part content are joined);
  the earlier ``user`` / ``assistant`` messages are the conversation it follows: a follow-up
  ("and what about its price?") is rewritten into a standalone query from them, exactly as in
  ``/v1/conversations`` (the LLM chain when ``llm.providers`` is set, else deterministic
  rules; ``conversations/``). ``system`` messages are ignored. The query retrieval used is
  the extension's ``rewritten_query`` (``rewriter``: none, rules or llm).
* The answer carries inline ``[n]`` markers; the extension field ``groundwire`` (top level of the
  response, and of the last stream chunk before ``[DONE]``) holds ``citations`` (n, uri, title,
  quote, support, ...), ``abstained``, ``degraded``, ``degraded_reason``, ``provider``,
  ``groundedness``, ``verification`` and ``record_id`` (for ``POST /v1/feedback``). OpenAI
  SDKs expose it as ``response.model_extra``.
* Streamed and non-streamed completions carry the same content: an answer the flow does not
  stream token by token (an abstention, the extractive answer) is sent as one content chunk.
* Streaming sends the tokens as the model writes them. If a provider fails after it has sent
  text, a client cannot un-read it, so the stream continues with a visible note and the
  fallback's whole answer; the extension's ``answer`` field always holds the final verified
  text (unsupported sentences dropped per ``llm.unsupported``).
* Sampling parameters (temperature, max_tokens, ...) are accepted and ignored: the server's
  ``llm`` settings decide them, so answers stay comparable and within budget.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from groundwire.answering.service import AnswerDelta, AnswerDone, AnswerRestart
from groundwire.api.authz import tenant_index
from groundwire.api.convert import answer_out
from groundwire.api.deps import get_app, require
from groundwire.api.routes.audit import audit_answer, audited
from groundwire.api.routes.conversations import followup_rewriter
from groundwire.api.schemas import ErrorResponse
from groundwire.api.sse import primed_stream, sse
from groundwire.app import Groundwire
from groundwire.conversations.rewrite import Rewrite
from groundwire.conversations.rewriter import Exchange
from groundwire.conversations.service import with_text
from groundwire.domain import Answer, SearchRequest
from groundwire.errors import InvalidRequest
from groundwire.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["openai-compatible"])
MODEL_PREFIX = "groundwire"
RESTART_NOTE = "\n\n(The model's connection failed mid-answer; the complete answer follows.)\n\n"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(MODEL_PREFIX, description="groundwire or groundwire/<index>.")
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=200)
    stream: bool = False
    stream_options: StreamOptions | None = None


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "groundwire"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


@router.get("/models", response_model=ModelList, summary="Indexes, as OpenAI models")
async def models(
    gw: Groundwire = Depends(get_app), principal: Principal = Depends(require("ask")),
) -> ModelList:
    now = int(time.time())
    names = await gw.store.list_indexes(principal.tenant)
    ids = [MODEL_PREFIX] + [f"{MODEL_PREFIX}/{n}" for n in names]
    return ModelList(data=[ModelOut(id=i, created=now) for i in ids])


@router.post(
    "/chat/completions",
    responses={422: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
               429: {"model": ErrorResponse},
               200: {"description": "chat.completion, or chat.completion.chunk SSE when "
                     "stream=true; extension field `groundwire` carries citations."}},
    summary="OpenAI-compatible chat completions answered from your documents",
)
async def chat_completions(
    body: ChatCompletionBody, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ask")),
) -> Any:
    index = _index(body.model)
    question, history = _conversation(body.messages)
    await tenant_index(gw, principal, index)
    rewrite = await followup_rewriter(gw, principal).rewrite(question, history)
    request = SearchRequest(query=rewrite.query, index=index, top_k=10,
                            access=principal.access())
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        frames = _chunks(gw, request, principal, completion_id, created, body.model,
                         include_usage, rewrite)
        return await primed_stream(frames)
    answer = await gw.ask(request, principal=principal.name, budget=principal.budget())
    await audit_answer(gw, principal, "chat.completion", request, answer)
    return {
        "id": completion_id, "object": "chat.completion", "created": created,
        "model": body.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(answer),
        "groundwire": _extension(answer, rewrite),
    }


async def _chunks(
    gw: Groundwire, request: SearchRequest, principal: Principal, completion_id: str,
    created: int,
    model: str, include_usage: bool, rewrite: Rewrite,
) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                             "logprobs": None}],
                **extra}
        return sse(body)

    started = False
    events = audited(gw, principal, "chat.completion", request,
                     gw.ask_stream(request, principal=principal.name,
                                   budget=principal.budget()))
    async for event in with_text(events):  # an abstention streams no tokens of its own
        if not started:
            started = True
            yield chunk({"role": "assistant", "content": ""})
        if isinstance(event, AnswerDelta):
            yield chunk({"content": event.text})
        elif isinstance(event, AnswerRestart):
            yield chunk({"content": RESTART_NOTE})
        elif isinstance(event, AnswerDone):
            answer = event.answer
            yield chunk({}, "stop", groundwire=_extension(answer, rewrite))
            if include_usage:
                yield sse({"id": completion_id, "object": "chat.completion.chunk",
                           "created": created, "model": model, "choices": [],
                           "usage": _usage(answer)})
    yield sse("[DONE]")


def _text(message: ChatMessage) -> str:
    content = message.content
    if isinstance(content, list):
        content = " ".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return (content or "").strip()


def _conversation(messages: list[ChatMessage]) -> tuple[str, list[Exchange]]:
    """The last user message with text, and the exchanges before it: each earlier user
    message with the assistant's reply that followed it (``system``/``tool`` ignored)."""
    last = next((i for i in range(len(messages) - 1, -1, -1)
                 if messages[i].role == "user" and _text(messages[i])), None)
    if last is None:
        raise InvalidRequest("no user message with text content")
    history: list[Exchange] = []
    for message in messages[:last]:
        text = _text(message)
        if message.role == "user" and text:
            history.append(Exchange(text))
        elif message.role == "assistant" and text and history:
            previous = history[-1]
            history[-1] = Exchange(previous.question, f"{previous.answer} {text}".strip())
    return _text(messages[last]), history


def _index(model: str) -> str:
    if model == MODEL_PREFIX:
        return "default"
    prefix = MODEL_PREFIX + "/"
    if model.startswith(prefix) and len(model) > len(prefix):
        return model[len(prefix):]
    raise InvalidRequest(f"model must be {MODEL_PREFIX!r} or '{MODEL_PREFIX}/<index>', "
                         f"got {model!r}")


def _usage(answer: Answer) -> dict[str, int]:
    usage = answer.usage or {}
    prompt = int(usage.get("prompt_tokens", 0))
    completion = int(usage.get("completion_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _extension(answer: Answer, rewrite: Rewrite) -> dict[str, Any]:
    out = answer_out(answer)
    return {
        "rewritten_query": rewrite.query, "rewriter": rewrite.method,
        "answer": out.answer, "abstained": out.abstained, "degraded": out.degraded,
        "degraded_reason": out.degraded_reason, "provider": out.provider,
        "groundedness": out.groundedness, "answerer": out.answerer,
        "citations": [c.model_dump() for c in out.citations],
        "verification": [v.model_dump() for v in out.verification],
        "prompt_id": out.prompt_id, "cost": out.cost, "cached": out.cached,
        "record_id": out.record_id,
    }
