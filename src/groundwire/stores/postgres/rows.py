"""SQL fragments and row converters shared by the PostgreSQL store's modules."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import sql

from groundwire.domain import Access, DocumentRecord, DocumentState
from groundwire.stores.values import StoredChunk

CHUNK_COLUMNS = """
    c.id AS chunk_id, c.document_id, d.uri, d.title, d.media_type, c.text, c.header,
    c.heading_path, c.char_start, c.char_end, d.metadata, d.tenant, d.readers
"""

DOCUMENT_COLUMNS = """
    d.id, d.index_name, d.uri, d.title, d.content_hash, d.state, d.error_code,
    d.error_message, d.modified_at, d.indexed_at, d.metadata, d.tenant, d.readers,
    (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) AS chunk_count
"""


def vector_literal(values: Sequence[float]) -> str:
    """pgvector's text form; avoids per-connection type registration."""
    return "[" + ",".join(f"{float(v):.7g}" for v in values) + "]"



async def bump_generation(conn: Any, index: str) -> None:
    """Bump ``index``'s generation: every transaction that changes what is searchable in an
    index calls this inside it (P1)."""
    await conn.execute(
        "UPDATE indexes SET generation = generation + 1, updated_at = now() WHERE name = %s",
        [index],
    )


def hnsw_index_name(model_id: str) -> str:
    return "embeddings_hnsw_" + re.sub(r"[^a-z0-9]+", "_", model_id.lower())[:40]


def stored_chunk(r: Mapping[str, Any]) -> StoredChunk:
    return StoredChunk(
        chunk_id=r["chunk_id"], document_id=r["document_id"], uri=r["uri"], title=r["title"],
        media_type=r["media_type"], text=r["text"], header=r["header"],
        heading_path=tuple(r["heading_path"] or ()), char_start=r["char_start"],
        char_end=r["char_end"], metadata=r["metadata"] or {},
        tenant=r["tenant"], readers=tuple(r["readers"] or ()),
    )


def document_record(r: Mapping[str, Any]) -> DocumentRecord:
    return DocumentRecord(
        id=r["id"], index=r["index_name"], uri=r["uri"], title=r["title"],
        content_hash=r["content_hash"], state=DocumentState(r["state"]),
        error_code=r["error_code"], error_message=r["error_message"],
        modified_at=r["modified_at"], indexed_at=r["indexed_at"],
        chunk_count=r["chunk_count"], metadata=r["metadata"] or {},
        tenant=r["tenant"], readers=tuple(r["readers"] or ()),
    )


def access_sql(access: Access | None) -> tuple[sql.Composable, dict[str, Any]]:
    """The permission pre-filter on ``d`` (documents): same tenant, a shared reader token."""
    if access is None or access.unrestricted:
        return sql.SQL(""), {}
    return (
        sql.SQL(" AND d.tenant = %(acc_tenant)s AND d.readers && %(acc_tokens)s::text[]"),
        {"acc_tenant": access.tenant, "acc_tokens": sorted(access.tokens)},
    )


def filter_sql(filters: Mapping[str, Any]) -> tuple[sql.Composable, dict[str, Any]]:
    """Translate the SearchRequest filter vocabulary into SQL on ``d`` (documents)."""
    parts: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if filters.get("uri_prefix"):
        parts.append(sql.SQL(" AND d.uri LIKE %(uri_prefix)s"))
        prefix = str(filters["uri_prefix"]).replace("\\", "\\\\").replace("%", "\\%")
        params["uri_prefix"] = prefix.replace("_", "\\_") + "%"
    if filters.get("media_type"):
        parts.append(sql.SQL(" AND d.media_type = %(media_type)s"))
        params["media_type"] = filters["media_type"]
    if filters.get("metadata"):
        parts.append(sql.SQL(" AND d.metadata @> %(metadata)s::jsonb"))
        params["metadata"] = json.dumps(dict(filters["metadata"]))
    return sql.Composed(parts), params
