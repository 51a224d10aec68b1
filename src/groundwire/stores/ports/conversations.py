"""Port of conversations: multi-turn asking, stored per tenant and user
(``conversations/`` uses it; migration ``0013_conversations.sql``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """A conversation: ``owner`` is the user name within ``tenant``; ``index`` the logical
    index every turn asks; ``turns`` how many turns it holds."""

    id: str
    tenant: str
    owner: str
    title: str
    index: str
    turns: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TurnRow:
    """One turn: ``question`` as asked, ``rewritten`` the standalone query retrieval used,
    ``rewriter`` how it was made (``none``, ``rules`` or ``llm``); ``citations`` are the
    answer's citations as JSON objects (n, uri, title, quote, ...)."""

    seq: int
    question: str
    rewritten: str
    rewriter: str
    answer: str
    abstained: bool
    citations: list[dict[str, Any]] = field(default_factory=list)
    record_id: str | None = None
    created_at: datetime | None = None


@runtime_checkable
class ConversationStore(Protocol):
    """Conversations and their turns, always addressed with the ``(tenant, owner)`` they
    belong to: a conversation of another user or tenant is ``NotFound``, exactly like a
    missing one (the same message), so ids reveal nothing.

    * ``create_conversation`` stores a new, empty conversation (``id`` chosen by the caller).
    * ``list_conversations``: the owner's conversations, most recently updated first.
    * ``get_conversation`` / ``rename_conversation``: ``NotFound`` when not the owner's.
    * ``delete_conversation``: True when it existed (its turns go with it), else False.
    * ``conversation_turns``: the turns in order (``seq`` 1, 2, ...); ``last`` keeps only the
      last ``last`` turns. ``NotFound`` when not the owner's.
    * ``add_turn`` appends ``turn`` (its ``seq`` and ``created_at`` are ignored) under a row
      lock on the conversation, so concurrent turns get distinct consecutive numbers; bumps
      ``turns`` and ``updated_at``; returns the stored turn. ``NotFound`` when the
      conversation is not the owner's (or was deleted meanwhile).
    """

    async def create_conversation(
        self, conversation_id: str, *, tenant: str, owner: str, title: str, index: str
    ) -> ConversationRow: ...

    async def list_conversations(
        self, *, tenant: str, owner: str, limit: int = 100, offset: int = 0
    ) -> list[ConversationRow]: ...

    async def get_conversation(
        self, conversation_id: str, *, tenant: str, owner: str
    ) -> ConversationRow: ...

    async def rename_conversation(
        self, conversation_id: str, *, tenant: str, owner: str, title: str
    ) -> ConversationRow: ...

    async def delete_conversation(
        self, conversation_id: str, *, tenant: str, owner: str
    ) -> bool: ...

    async def conversation_turns(
        self, conversation_id: str, *, tenant: str, owner: str, last: int | None = None
    ) -> list[TurnRow]: ...

    async def add_turn(
        self, conversation_id: str, turn: TurnRow, *, tenant: str, owner: str
    ) -> TurnRow: ...
