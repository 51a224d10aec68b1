"""Conversations and their turns on PostgreSQL (mixed into ``PostgresStore``).

Tables from migration ``0013_conversations.sql``. Every statement is scoped by
``(tenant, owner)`` in SQL, so another user's conversation reads exactly like a missing one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from groundwire.errors import NotFound
from groundwire.stores.ports.conversations import ConversationRow, TurnRow

_COLUMNS = "id, tenant, owner, title, index_name, turns, created_at, updated_at"
_TURN_COLUMNS = ("seq, question, rewritten, rewriter, answer, abstained, citations, record_id, "
                 "created_at")


def _conversation(row: Sequence[Any]) -> ConversationRow:
    return ConversationRow(id=row[0], tenant=row[1], owner=row[2], title=row[3], index=row[4],
                           turns=row[5], created_at=row[6], updated_at=row[7])


def _turn(row: Sequence[Any]) -> TurnRow:
    return TurnRow(seq=row[0], question=row[1], rewritten=row[2], rewriter=row[3],
                   answer=row[4], abstained=row[5], citations=list(row[6] or []),
                   record_id=row[7], created_at=row[8])


def _missing(conversation_id: str) -> NotFound:
    return NotFound(f"no conversation {conversation_id!r}")


class PostgresConversations:
    """Requires ``self._connection()`` (provided by ``PostgresStore``)."""

    _connection: Callable[[], Any]  # PostgresStore's pooled-connection factory

    async def create_conversation(
        self, conversation_id: str, *, tenant: str, owner: str, title: str, index: str
    ) -> ConversationRow:
        async with self._connection() as conn:
            row = await (await conn.execute(
                f"INSERT INTO conversations (id, tenant, owner, title, index_name) "
                f"VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                [conversation_id, tenant, owner, title, index])).fetchone()
        return _conversation(row)

    async def list_conversations(
        self, *, tenant: str, owner: str, limit: int = 100, offset: int = 0
    ) -> list[ConversationRow]:
        async with self._connection() as conn:
            rows = await (await conn.execute(
                f"SELECT {_COLUMNS} FROM conversations WHERE tenant = %s AND owner = %s "
                "ORDER BY updated_at DESC, id LIMIT %s OFFSET %s",
                [tenant, owner, limit, offset])).fetchall()
        return [_conversation(r) for r in rows]

    async def get_conversation(
        self, conversation_id: str, *, tenant: str, owner: str
    ) -> ConversationRow:
        async with self._connection() as conn:
            row = await (await conn.execute(
                f"SELECT {_COLUMNS} FROM conversations WHERE id = %s AND tenant = %s "
                "AND owner = %s", [conversation_id, tenant, owner])).fetchone()
        if row is None:
            raise _missing(conversation_id)
        return _conversation(row)

    async def rename_conversation(
        self, conversation_id: str, *, tenant: str, owner: str, title: str
    ) -> ConversationRow:
        async with self._connection() as conn:
            row = await (await conn.execute(
                f"UPDATE conversations SET title = %s, updated_at = now() "
                f"WHERE id = %s AND tenant = %s AND owner = %s RETURNING {_COLUMNS}",
                [title, conversation_id, tenant, owner])).fetchone()
        if row is None:
            raise _missing(conversation_id)
        return _conversation(row)

    async def delete_conversation(
        self, conversation_id: str, *, tenant: str, owner: str
    ) -> bool:
        async with self._connection() as conn:
            cur = await conn.execute(
                "DELETE FROM conversations WHERE id = %s AND tenant = %s AND owner = %s",
                [conversation_id, tenant, owner])
            return bool(cur.rowcount)

    async def conversation_turns(
        self, conversation_id: str, *, tenant: str, owner: str, last: int | None = None
    ) -> list[TurnRow]:
        async with self._connection() as conn:
            found = await (await conn.execute(
                "SELECT 1 FROM conversations WHERE id = %s AND tenant = %s AND owner = %s",
                [conversation_id, tenant, owner])).fetchone()
            if found is None:
                raise _missing(conversation_id)
            rows = await (await conn.execute(
                f"SELECT {_TURN_COLUMNS} FROM conversation_turns WHERE conversation_id = %s "
                "ORDER BY seq DESC LIMIT %s", [conversation_id, last])).fetchall()
        return [_turn(r) for r in reversed(rows)]

    async def add_turn(
        self, conversation_id: str, turn: TurnRow, *, tenant: str, owner: str
    ) -> TurnRow:
        async with self._connection() as conn, conn.transaction():
            locked = await (await conn.execute(
                "SELECT turns FROM conversations WHERE id = %s AND tenant = %s AND owner = %s "
                "FOR UPDATE", [conversation_id, tenant, owner])).fetchone()
            if locked is None:
                raise _missing(conversation_id)
            seq = int(locked[0]) + 1
            row = await (await conn.execute(
                f"INSERT INTO conversation_turns (conversation_id, seq, question, rewritten, "
                f"rewriter, answer, abstained, citations, record_id) "
                f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s) RETURNING {_TURN_COLUMNS}",
                [conversation_id, seq, turn.question, turn.rewritten, turn.rewriter,
                 turn.answer, turn.abstained, json.dumps(turn.citations, default=str),
                 turn.record_id])).fetchone()
            await conn.execute(
                "UPDATE conversations SET turns = %s, updated_at = now() WHERE id = %s",
                [seq, conversation_id])
        return _turn(row)
