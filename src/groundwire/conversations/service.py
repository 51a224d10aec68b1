"""``ConversationService``: conversations of one user, and asking a turn in one.

Written against narrow shapes, not the application: a ``ConversationStore`` port, an
``Asker`` (``app.Groundwire`` satisfies it: ``ask`` and ``ask_stream``) and a
``FollowupRewriter``. Contract:

* Every operation is scoped to the principal's ``(tenant, user)``: another user's
  conversation is ``NotFound`` (404), the same as a missing one.
* A turn: the last ``HISTORY_TURNS`` turns -> the rewriter's standalone query -> the ask flow
  (``SearchRequest`` with the principal's ``Access``: retrieval sees only what the user may
  read) -> the turn is stored (question and answer with credentials and e-mail addresses
  redacted, as answer records are) -> returned with the rewritten query.
* A turn is stored only once its answer is complete; a stream the client abandons stores
  nothing. The first turn of an untitled conversation names it after the question.
* Streams always carry the answer's text: ``with_text`` adds the final text as one delta when
  the flow produced none (an abstention streams no tokens), so streamed and non-streamed
  answers read the same.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol

from groundwire.answering.service import AnswerDelta, AnswerDone, AnswerEvent
from groundwire.conversations.rewrite import Rewrite
from groundwire.conversations.rewriter import Exchange, FollowupRewriter
from groundwire.domain import Answer, SearchRequest
from groundwire.domain.budgets import BudgetScopes
from groundwire.errors import InvalidRequest, NotFound
from groundwire.safety.redaction import redact_for_storage
from groundwire.security.principal import Principal
from groundwire.stores.ports.conversations import ConversationRow, ConversationStore, TurnRow

UNTITLED = "New conversation"
TITLE_CHARS = 80
MAX_TITLE_CHARS = 200
HISTORY_TURNS = 3
TOP_K = 10


class Asker(Protocol):
    """The ask flow (``app.Groundwire``)."""

    async def ask(self, request: SearchRequest, *, principal: str = ...,
                  budget: BudgetScopes | None = ...) -> Answer: ...

    def ask_stream(self, request: SearchRequest, *, principal: str = ...,
                   budget: BudgetScopes | None = ...) -> AsyncIterator[AnswerEvent]: ...


@dataclass(frozen=True, slots=True)
class PreparedTurn:
    """A turn ready to be asked: the conversation, the question as asked, its rewrite and
    the request retrieval will run (the rewritten query, the principal's access)."""

    conversation: ConversationRow
    question: str
    rewrite: Rewrite
    request: SearchRequest


@dataclass(frozen=True, slots=True)
class TurnSaved:
    """The last event of a streamed turn: the stored turn."""

    conversation_id: str
    turn: TurnRow


@dataclass(frozen=True, slots=True)
class TurnResult:
    conversation_id: str
    turn: TurnRow
    rewrite: Rewrite
    answer: Answer = field(repr=False)


class ConversationService:
    def __init__(self, store: ConversationStore, asker: Asker,
                 rewriter: FollowupRewriter | None = None) -> None:
        self._store = store
        self._asker = asker
        self.rewriter = rewriter or FollowupRewriter()

    # ------------------------------------------------------------------ conversations
    async def create(self, principal: Principal, *, title: str | None = None,
                     index: str = "default") -> ConversationRow:
        """A new, empty conversation asking ``index`` (the caller checks the index exists
        for the principal's tenant)."""
        return await self._store.create_conversation(
            f"conv_{uuid.uuid4().hex}", tenant=principal.tenant, owner=principal.user,
            title=_title(title) if title is not None else UNTITLED, index=index)

    async def list_conversations(self, principal: Principal, *, limit: int = 100, offset: int = 0
                   ) -> list[ConversationRow]:
        return await self._store.list_conversations(
            tenant=principal.tenant, owner=principal.user, limit=limit, offset=offset)

    async def get(self, principal: Principal, conversation_id: str
                  ) -> tuple[ConversationRow, list[TurnRow]]:
        """The conversation and all its turns, in order."""
        conversation = await self._store.get_conversation(
            conversation_id, tenant=principal.tenant, owner=principal.user)
        turns = await self._store.conversation_turns(
            conversation_id, tenant=principal.tenant, owner=principal.user)
        return conversation, turns

    async def rename(self, principal: Principal, conversation_id: str, title: str
                     ) -> ConversationRow:
        return await self._store.rename_conversation(
            conversation_id, tenant=principal.tenant, owner=principal.user, title=_title(title))

    async def delete(self, principal: Principal, conversation_id: str) -> None:
        if not await self._store.delete_conversation(
                conversation_id, tenant=principal.tenant, owner=principal.user):
            raise NotFound(f"no conversation {conversation_id!r}")

    # ------------------------------------------------------------------ turns
    async def prepare(self, principal: Principal, conversation_id: str, question: str,
                      *, filters: Mapping[str, Any] | None = None) -> PreparedTurn:
        """Load the recent turns and rewrite ``question`` into its standalone query."""
        if not question.strip():
            raise InvalidRequest("question is empty")
        conversation = await self._store.get_conversation(
            conversation_id, tenant=principal.tenant, owner=principal.user)
        turns = await self._store.conversation_turns(
            conversation_id, tenant=principal.tenant, owner=principal.user,
            last=HISTORY_TURNS)
        history = [Exchange(t.question, t.answer, t.rewritten) for t in turns]
        rewrite = await self.rewriter.rewrite(question, history)
        request = SearchRequest(query=rewrite.query, index=conversation.index, top_k=TOP_K,
                                filters=dict(filters or {}), access=principal.access())
        return PreparedTurn(conversation, " ".join(question.split()), rewrite, request)

    async def save(self, principal: Principal, prepared: PreparedTurn, answer: Answer
                   ) -> TurnRow:
        """Store the answered turn (redacted); name an untitled conversation after it."""
        turn = TurnRow(
            seq=0, question=redact_for_storage(prepared.question),
            rewritten=redact_for_storage(prepared.rewrite.query),
            rewriter=prepared.rewrite.method, answer=redact_for_storage(answer.text),
            abstained=answer.abstained, citations=citations_json(answer),
            record_id=answer.record_id)
        conversation = prepared.conversation
        stored = await self._store.add_turn(conversation.id, turn, tenant=principal.tenant,
                                            owner=principal.user)
        if stored.seq == 1 and conversation.title == UNTITLED:
            await self._store.rename_conversation(
                conversation.id, tenant=principal.tenant, owner=principal.user,
                title=_title(turn.question[:TITLE_CHARS]))
        return stored

    async def ask(self, principal: Principal, conversation_id: str, question: str,
                  *, filters: Mapping[str, Any] | None = None) -> TurnResult:
        prepared = await self.prepare(principal, conversation_id, question, filters=filters)
        answer = await self._asker.ask(prepared.request, principal=principal.name,
                                       budget=principal.budget())
        turn = await self.save(principal, prepared, answer)
        return TurnResult(conversation_id, turn, prepared.rewrite, answer)

    async def stream(self, principal: Principal, prepared: PreparedTurn,
                     events: AsyncIterator[AnswerEvent] | None = None,
                     ) -> AsyncIterator[AnswerEvent | TurnSaved]:
        """The answer events of ``prepared`` (``events``: the ask stream of its request,
        e.g. wrapped for audit; default the asker's), text guaranteed, then ``TurnSaved``."""
        if events is None:
            events = self._asker.ask_stream(prepared.request, principal=principal.name,
                                            budget=principal.budget())
        async with aclosing(with_text(events)) as answered:  # type: ignore[type-var]
            async for event in answered:
                yield event
                if isinstance(event, AnswerDone):
                    turn = await self.save(principal, prepared, event.answer)
                    yield TurnSaved(prepared.conversation.id, turn)


async def with_text(events: AsyncIterator[AnswerEvent]) -> AsyncIterator[AnswerEvent]:
    """``events``, plus the final answer's text as one ``AnswerDelta`` before ``AnswerDone``
    when no text was streamed (an abstention, or an answer the flow does not stream)."""
    streamed = False
    async with aclosing(events):  # type: ignore[type-var]
        async for event in events:
            if isinstance(event, AnswerDelta) and event.text:
                streamed = True
            elif isinstance(event, AnswerDone) and not streamed and event.answer.text:
                yield AnswerDelta(event.answer.text)
            yield event


def citations_json(answer: Answer) -> list[dict[str, Any]]:
    """The answer's citations as stored with a turn (no passage text: the uri finds it)."""
    return [{"n": c.n, "uri": c.hit.uri, "title": c.hit.title, "quote": c.quote,
             "heading_path": list(c.hit.heading_path), "support": c.support,
             "document_id": c.hit.document_id, "chunk_id": c.hit.chunk_id}
            for c in answer.citations]


def _title(title: str) -> str:
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE_CHARS:
        raise InvalidRequest(f"title must be 1-{MAX_TITLE_CHARS} characters")
    return title
