"""Conversations: list, create, rename, delete, and ask a turn where follow-ups are understood.

Scope ``ask``. A conversation belongs to the key's tenant and user: another user's (or
tenant's) conversation is 404 like a missing one. Each turn's question is rewritten into a
standalone query from the conversation (``conversations/``: the LLM chain when
``llm.providers`` is set, else deterministic rules), shown as ``rewritten_query``; retrieval
runs with the caller's permissions; the answer and citations are those of ``/v1/ask``.
``stream: true`` answers as Server-Sent Events: ``rewrite`` ({question, rewritten_query,
rewriter}), then the ``/v1/ask`` events (``token``, ``restart``, ``citations``,
``verification``, ``done``), then ``turn`` (the stored turn).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from groundwire.answering.service import AnswerEvent
from groundwire.api.authz import tenant_index
from groundwire.api.convert import answer_out
from groundwire.api.deps import get_app, require
from groundwire.api.routes.audit import audit_answer, audited
from groundwire.api.routes.query import _ask_frames
from groundwire.api.schemas import AskResponse, ErrorResponse, Filters
from groundwire.api.sse import primed_stream, sse
from groundwire.app import Groundwire
from groundwire.conversations.budget import RewriteBudget
from groundwire.conversations.rewriter import FollowupRewriter
from groundwire.conversations.service import ConversationService, TurnSaved
from groundwire.security.principal import Principal
from groundwire.stores.ports.conversations import ConversationRow, TurnRow

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
    404: {"model": ErrorResponse}, 422: {"model": ErrorResponse},
}


class ConversationCreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200,
                              description="Default: named after the first question.")
    index: str = Field("default", max_length=64, description="The index every turn asks.")


class ConversationRenameBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(..., min_length=1, max_length=200)


class MessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., min_length=1, max_length=20000)
    filters: Filters = Field(default_factory=Filters)
    stream: bool = Field(False, description="Answer as Server-Sent Events (see the tag).")


class ConversationOut(BaseModel):
    id: str
    title: str
    index: str
    turns: int
    created_at: datetime
    updated_at: datetime


class TurnOut(BaseModel):
    seq: int
    question: str = Field(..., description="As asked (credentials redacted).")
    rewritten_query: str = Field(..., description="The standalone query retrieval used.")
    rewriter: str = Field(..., description='"none" (as asked), "rules" or "llm".')
    answer: str
    abstained: bool
    citations: list[dict[str, Any]]
    record_id: str | None = None
    created_at: datetime | None = None


class ConversationDetailOut(ConversationOut):
    messages: list[TurnOut]


class ConversationListOut(BaseModel):
    conversations: list[ConversationOut]


class MessageOut(BaseModel):
    conversation_id: str
    turn: TurnOut
    rewritten_query: str
    rewriter: str
    response: AskResponse = Field(..., description="The whole answer, as /v1/ask returns it.")


def conversation_out(c: ConversationRow) -> ConversationOut:
    return ConversationOut(id=c.id, title=c.title, index=c.index, turns=c.turns,
                           created_at=c.created_at, updated_at=c.updated_at)


def turn_out(t: TurnRow) -> TurnOut:
    return TurnOut(seq=t.seq, question=t.question, rewritten_query=t.rewritten,
                   rewriter=t.rewriter, answer=t.answer, abstained=t.abstained,
                   citations=t.citations, record_id=t.record_id, created_at=t.created_at)


def conversation_service(gw: Groundwire, principal: Principal) -> ConversationService:
    """The service over the app's store and ask flow, with the follow-up rewriter of
    ``followup_rewriter``."""
    return ConversationService(gw.store, gw, followup_rewriter(gw, principal))


def service(gw: Groundwire = Depends(get_app)) -> ConversationService:
    """A dependency for pages that list and manage conversations (the web app): its rewriter
    is the rules only; asking a turn goes through ``conversation_service`` (LLM + budget)."""
    return ConversationService(gw.store, gw, FollowupRewriter())


def followup_rewriter(gw: Groundwire, principal: Principal) -> FollowupRewriter:
    """The rewriter on the app's LLM chain (None: rules only) within the principal's answer
    budget (``conversations/budget.py``); ``/v1/chat/completions`` uses it too."""
    llm = gw.answers.llm
    if llm is None:
        return FollowupRewriter()
    return FollowupRewriter(llm.chain, RewriteBudget(llm, gw.store, principal.budget()))


@router.post("", response_model=ConversationOut, status_code=201, responses=ERRORS,
             summary="Start a conversation")
async def create_conversation(
    body: ConversationCreateBody, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ask")),
) -> ConversationOut:
    await tenant_index(gw, principal, body.index)
    conversations = conversation_service(gw, principal)
    return conversation_out(await conversations.create(principal, title=body.title,
                                                       index=body.index))


@router.get("", response_model=ConversationListOut, responses=ERRORS,
            summary="Your conversations, most recently active first")
async def list_conversations(
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
    gw: Groundwire = Depends(get_app), principal: Principal = Depends(require("ask")),
) -> ConversationListOut:
    conversations = conversation_service(gw, principal)
    rows = await conversations.list_conversations(principal, limit=limit, offset=offset)
    return ConversationListOut(conversations=[conversation_out(c) for c in rows])


@router.get("/{conversation_id}", response_model=ConversationDetailOut, responses=ERRORS,
            summary="A conversation with its turns")
async def get_conversation(
    conversation_id: str, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ask")),
) -> ConversationDetailOut:
    conversations = conversation_service(gw, principal)
    conversation, turns = await conversations.get(principal, conversation_id)
    return ConversationDetailOut(**conversation_out(conversation).model_dump(),
                                 messages=[turn_out(t) for t in turns])


@router.patch("/{conversation_id}", response_model=ConversationOut, responses=ERRORS,
              summary="Rename a conversation")
async def rename_conversation(
    conversation_id: str, body: ConversationRenameBody, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ask")),
) -> ConversationOut:
    conversations = conversation_service(gw, principal)
    return conversation_out(await conversations.rename(principal, conversation_id, body.title))


@router.delete("/{conversation_id}", status_code=204, responses=ERRORS,
               summary="Delete a conversation and its turns")
async def delete_conversation(
    conversation_id: str, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ask")),
) -> Response:
    conversations = conversation_service(gw, principal)
    await conversations.delete(principal, conversation_id)
    return Response(status_code=204)


@router.post(
    "/{conversation_id}/messages", response_model=MessageOut,
    responses={**ERRORS, 429: {"model": ErrorResponse},
               200: {"content": {"text/event-stream": {}},
                     "description": "MessageOut, or an SSE stream when stream=true."}},
    summary="Ask a turn: the follow-up is rewritten from the conversation, then answered",
)
async def ask_turn(
    conversation_id: str, body: MessageBody, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ask")),
) -> MessageOut | StreamingResponse:
    conversations = conversation_service(gw, principal)
    prepared = await conversations.prepare(
        principal, conversation_id, body.question,
        filters=body.filters.model_dump(exclude_none=True))
    await tenant_index(gw, principal, prepared.request.index)
    if body.stream:
        events = audited(gw, principal, "conversation.ask", prepared.request,
                         gw.ask_stream(prepared.request, principal=principal.name,
                                       budget=principal.budget()))
        head = sse({"question": prepared.question, "rewritten_query": prepared.rewrite.query,
                    "rewriter": prepared.rewrite.method}, event="rewrite")
        return await primed_stream(_frames(head, conversations.stream(principal, prepared,
                                                                     events)))
    answer = await gw.ask(prepared.request, principal=principal.name,
                          budget=principal.budget())
    await audit_answer(gw, principal, "conversation.ask", prepared.request, answer)
    turn = await conversations.save(principal, prepared, answer)
    return MessageOut(conversation_id=conversation_id, turn=turn_out(turn),
                      rewritten_query=prepared.rewrite.query, rewriter=prepared.rewrite.method,
                      response=answer_out(answer))


async def _frames(head: str, events: AsyncIterator[AnswerEvent | TurnSaved]
                  ) -> AsyncIterator[str]:
    """``rewrite``, the /v1/ask frames, then ``turn``. The first answer event is pulled
    before anything is sent, so errors before output keep their JSON status."""
    saved: list[TurnSaved] = []

    async def answer_events() -> AsyncIterator[AnswerEvent]:
        async for event in events:
            if isinstance(event, TurnSaved):
                saved.append(event)
            else:
                yield event

    frames = _ask_frames(answer_events())
    first = await anext(frames)
    yield head
    yield first
    async for frame in frames:
        yield frame
    for event in saved:
        yield sse({"conversation_id": event.conversation_id,
                   **turn_out(event.turn).model_dump(mode="json")}, event="turn")
