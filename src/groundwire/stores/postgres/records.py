"""Answer records, feedback and alerts on PostgreSQL (mixed into ``PostgresStore``).

Tables from migration ``0004_answer_records.sql``. Query embeddings are ``real[]`` (any model
dimension); monitors read them back as plain lists. Aggregates for the monitors and the
dashboard time series are computed in SQL so a window of many records is one round trip.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from groundwire.domain.records import Alert, AnswerRecord, FeedbackEntry
from groundwire.errors import InvalidRequest, NotFound, StoreUnavailable

_RECORD_COLUMNS = (
    "id", "created_at", "kind", "index_name", "principal", "question", "passages", "answer",
    "citations", "groundedness", "confidence", "abstained", "degraded", "degraded_reason",
    "answerer", "timings", "latency_ms", "provider", "model", "prompt_id", "prompt_hash",
    "index_generation", "cost", "usage", "cached", "top_score", "embedding_model",
    "query_embedding",
)
_JSON_COLUMNS = {"passages", "citations", "timings", "usage"}

# metric name -> (SQL aggregate over answer_records r, rows it needs)
TIMESERIES_METRICS: dict[str, str] = {
    "requests": "count(*)::float8",
    "no_answer_rate": "avg(r.abstained::int) FILTER (WHERE r.kind = 'ask')",
    "low_score_rate": "avg((r.top_score < %(low)s)::int) FILTER (WHERE r.top_score IS NOT NULL)",
    "top_score": "avg(r.top_score)",
    "groundedness": "avg(r.groundedness)",
    "latency_p50": "percentile_cont(0.5) WITHIN GROUP (ORDER BY r.latency_ms)",
    "latency_p95": "percentile_cont(0.95) WITHIN GROUP (ORDER BY r.latency_ms)",
    "cost_per_answer": "avg(coalesce(r.cost, 0)) FILTER (WHERE r.kind = 'ask')",
    "degraded_rate": "avg(r.degraded::int) FILTER (WHERE r.kind = 'ask')",
}
FEEDBACK_METRICS = ("negative_feedback_rate", "feedback")


def _record_row(r: AnswerRecord) -> tuple[Any, ...]:
    values = []
    for column in _RECORD_COLUMNS:
        attr = "index" if column == "index_name" else column
        value = getattr(r, attr)
        if column in _JSON_COLUMNS:
            if column in ("passages", "citations"):
                value = json.dumps([dict(v) for v in value], default=str)
            elif value is not None:
                value = json.dumps(dict(value), default=str)
        elif column == "query_embedding" and value is not None:
            value = [float(v) for v in value]
        values.append(value)
    return tuple(values)


def _record(row: Mapping[str, Any]) -> AnswerRecord:
    data = {("index" if k == "index_name" else k): v for k, v in row.items()}
    data["id"] = str(data["id"])
    data["passages"] = tuple(data["passages"] or ())
    data["citations"] = tuple(data["citations"] or ())
    data["timings"] = data["timings"] or {}
    emb = data.get("query_embedding")
    data["query_embedding"] = tuple(emb) if emb is not None else None
    return AnswerRecord(**data)


def _alert(row: Mapping[str, Any]) -> Alert:
    return Alert(
        id=row["id"], monitor=row["monitor"], index=row["index_name"],
        severity=row["severity"], value=row["value"], threshold=row["threshold"],
        message=row["message"], details=row["details"] or {}, created_at=row["created_at"],
        resolved_at=row["resolved_at"],
    )


class PostgresRecords:
    """Record/feedback/alert persistence; needs ``self._connection()`` from PostgresStore."""

    _connection: Callable[[], Any]  # PostgresStore's pooled-connection factory

    # ------------------------------------------------------------------ records
    async def insert_records(self, records: Sequence[AnswerRecord]) -> None:
        if not records:
            return
        placeholders = ", ".join(["%s"] * len(_RECORD_COLUMNS))
        query = (f"INSERT INTO answer_records ({', '.join(_RECORD_COLUMNS)})"
                 f" VALUES ({placeholders}) ON CONFLICT (id) DO NOTHING")
        try:
            async with self._connection() as conn, conn.cursor() as cur:
                await cur.executemany(query, [_record_row(r) for r in records])
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"PostgreSQL write failed: {exc}") from exc

    async def get_record(self, record_id: str) -> AnswerRecord | None:
        if not _is_uuid(record_id):
            return None
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {', '.join(_RECORD_COLUMNS)} FROM answer_records WHERE id = %s",
                [record_id],
            )
            row = await cur.fetchone()
        return _record(row) if row else None

    async def list_records(
        self, *, since: datetime | None = None, until: datetime | None = None,
        index: str | None = None, kind: str | None = None, limit: int = 1000,
        after: tuple[datetime, str] | None = None,
    ) -> list[AnswerRecord]:
        """Records oldest first, ``created_at >= since`` and ``< until``; page with ``after``
        (the last record's ``(created_at, id)``)."""
        where: list[str] = ["TRUE"]
        params: dict[str, Any] = {}
        if since is not None:
            where.append("created_at >= %(since)s")
            params["since"] = since
        if until is not None:
            where.append("created_at < %(until)s")
            params["until"] = until
        if index is not None:
            where.append("index_name = %(index)s")
            params["index"] = index
        if kind is not None:
            where.append("kind = %(kind)s")
            params["kind"] = kind
        if after is not None:
            where.append("(created_at, id) > (%(after_ts)s, %(after_id)s::uuid)")
            params.update(after_ts=after[0], after_id=after[1])
        params["limit"] = limit
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {', '.join(_RECORD_COLUMNS)} FROM answer_records"
                f" WHERE {' AND '.join(where)} ORDER BY created_at, id LIMIT %(limit)s",
                params,
            )
            rows = await cur.fetchall()
        return [_record(r) for r in rows]

    async def purge_records(self, before: datetime) -> int:
        """Delete records (their feedback cascades) and resolved alerts older than ``before``."""
        async with self._connection() as conn, conn.transaction():
            cur = await conn.execute("DELETE FROM answer_records WHERE created_at < %s",
                                     [before])
            count = cur.rowcount
            await conn.execute(
                "DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < %s", [before]
            )
        return int(count)

    async def record_indexes(self, since: datetime) -> list[str]:
        async with self._connection() as conn:
            rows = await (await conn.execute(
                "SELECT DISTINCT index_name FROM answer_records WHERE created_at >= %s"
                " ORDER BY index_name", [since])).fetchall()
        return [r[0] for r in rows]

    async def window_aggregates(
        self, since: datetime, *, low_score: float
    ) -> dict[str, dict[str, Any]]:
        """Per index over records since ``since``: counts and the monitor figures."""
        query = """
            SELECT index_name,
                   count(*) AS records,
                   count(*) FILTER (WHERE kind = 'ask') AS asks,
                   count(*) FILTER (WHERE kind = 'search') AS searches,
                   avg(abstained::int) FILTER (WHERE kind = 'ask') AS no_answer_rate,
                   count(top_score) AS scored,
                   avg((top_score < %(low)s)::int) FILTER (WHERE top_score IS NOT NULL)
                       AS low_score_rate,
                   count(groundedness) AS grounded,
                   avg(groundedness) AS groundedness,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
                       FILTER (WHERE kind = 'search') AS search_p95_ms,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
                       FILTER (WHERE kind = 'ask') AS ask_p95_ms,
                   avg(coalesce(cost, 0)) FILTER (WHERE kind = 'ask') AS cost_per_answer
            FROM answer_records WHERE created_at >= %(since)s GROUP BY index_name
        """
        feedback = """
            SELECT r.index_name, count(*) AS feedback,
                   count(*) FILTER (WHERE NOT f.helpful) AS negative
            FROM feedback f JOIN answer_records r ON r.id = f.record_id
            WHERE f.created_at >= %(since)s GROUP BY r.index_name
        """
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, {"since": since, "low": low_score})
            rows = await cur.fetchall()
            await cur.execute(feedback, {"since": since})
            fb_rows = await cur.fetchall()
        out: dict[str, dict[str, Any]] = {r["index_name"]: dict(r) for r in rows}
        for r in fb_rows:
            entry = out.setdefault(r["index_name"], {"index_name": r["index_name"],
                                                     "records": 0})
            entry["feedback"] = r["feedback"]
            entry["negative_feedback"] = r["negative"]
        return out

    async def recent_queries(
        self, index: str, model: str, n: int
    ) -> list[tuple[float | None, list[float]]]:
        """The latest ``n`` records of an index with an embedding of ``model``, newest first:
        ``(top_score, query_embedding)``."""
        async with self._connection() as conn:
            rows = await (await conn.execute(
                "SELECT top_score, query_embedding FROM answer_records"
                " WHERE index_name = %s AND embedding_model = %s"
                " AND query_embedding IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT %s",
                [index, model, n])).fetchall()
        return [(r[0], list(r[1])) for r in rows]

    async def gap_candidates(
        self, since: datetime, *, low_score: float, model: str, limit: int = 5000
    ) -> list[dict[str, Any]]:
        """Records since ``since`` that the corpus did not serve well: abstained, a top score
        below ``low_score``, or feedback 'not helpful'. Newest first."""
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                """
                SELECT r.id, r.index_name, r.question, r.top_score, r.abstained,
                       r.query_embedding,
                       EXISTS (SELECT 1 FROM feedback f WHERE f.record_id = r.id
                               AND NOT f.helpful) AS negative
                FROM answer_records r
                WHERE r.created_at >= %(since)s AND r.embedding_model = %(model)s
                  AND r.query_embedding IS NOT NULL
                  AND (r.abstained OR r.top_score < %(low)s OR EXISTS (
                       SELECT 1 FROM feedback f WHERE f.record_id = r.id AND NOT f.helpful))
                ORDER BY r.created_at DESC LIMIT %(limit)s
                """,
                {"since": since, "model": model, "low": low_score, "limit": limit},
            )
            rows = await cur.fetchall()
        for r in rows:
            r["id"] = str(r["id"])
        return rows

    async def timeseries(
        self, metric: str, *, bucket_s: int, since: datetime, until: datetime | None = None,
        index: str | None = None, kind: str | None = None, low_score: float = 0.0,
    ) -> list[tuple[datetime, float | None, int]]:
        """``(bucket start, value, records in bucket)`` per bucket that has records."""
        params: dict[str, Any] = {"bucket": bucket_s, "since": since, "low": low_score,
                                  "until": until, "index": index, "kind": kind}
        filters = ("%(until)s::timestamptz IS NULL OR {t} < %(until)s) AND"
                   " (%(index)s::text IS NULL OR r.index_name = %(index)s)")
        if metric in FEEDBACK_METRICS:
            value = ("avg((NOT f.helpful)::int)" if metric == "negative_feedback_rate"
                     else "count(*)::float8")
            query = (
                "SELECT date_bin(make_interval(secs => %(bucket)s), f.created_at,"
                " timestamptz '2000-01-01') AS b, " + value + ", count(*)"
                " FROM feedback f JOIN answer_records r ON r.id = f.record_id"
                " WHERE f.created_at >= %(since)s AND (" + filters.format(t="f.created_at") +
                " GROUP BY b ORDER BY b"
            )
        elif metric in TIMESERIES_METRICS:
            query = (
                "SELECT date_bin(make_interval(secs => %(bucket)s), r.created_at,"
                " timestamptz '2000-01-01') AS b, " + TIMESERIES_METRICS[metric] + ", count(*)"
                " FROM answer_records r WHERE r.created_at >= %(since)s AND ("
                + filters.format(t="r.created_at") +
                " AND (%(kind)s::text IS NULL OR r.kind = %(kind)s)"
                " GROUP BY b ORDER BY b"
            )
        else:
            known = sorted([*TIMESERIES_METRICS, *FEEDBACK_METRICS])
            raise InvalidRequest(f"unknown metric {metric!r}; known: {', '.join(known)}")
        async with self._connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
        return [(r[0], None if r[1] is None else float(r[1]), int(r[2])) for r in rows]

    # ------------------------------------------------------------------ feedback
    async def add_feedback(
        self, record_id: str, *, helpful: bool, comment: str | None,
        expected_passage: str | None, principal: str,
    ) -> FeedbackEntry:
        """Store feedback on a record; ``NotFound`` when there is no such record."""
        if not _is_uuid(record_id):
            raise NotFound(f"no answer record {record_id!r}")
        try:
            async with self._connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "INSERT INTO feedback (record_id, helpful, comment, expected_passage,"
                    " principal) VALUES (%s, %s, %s, %s, %s) RETURNING id, record_id,"
                    " created_at, helpful, comment, expected_passage, principal",
                    [record_id, helpful, comment, expected_passage, principal],
                )
                row = await cur.fetchone()
        except psycopg.errors.ForeignKeyViolation as exc:
            raise NotFound(f"no answer record {record_id!r}") from exc
        assert row is not None
        row["record_id"] = str(row["record_id"])
        return FeedbackEntry(**row)

    # ------------------------------------------------------------------ alerts
    async def open_alert(self, alert: Alert) -> Alert | None:
        """Insert ``alert`` unless one is already open for its (monitor, index); return the
        stored alert when this call opened it, else None."""
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "INSERT INTO alerts (monitor, index_name, severity, value, threshold, message,"
                " details) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (monitor, index_name) WHERE resolved_at IS NULL DO NOTHING"
                " RETURNING *",
                [alert.monitor, alert.index, alert.severity, alert.value, alert.threshold,
                 alert.message, json.dumps(dict(alert.details), default=str)],
            )
            row = await cur.fetchone()
        return _alert(row) if row else None

    async def resolve_alert(self, monitor: str, index: str) -> Alert | None:
        """Close the open alert of (monitor, index); return it, or None when none was open."""
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "UPDATE alerts SET resolved_at = now() WHERE monitor = %s AND index_name = %s"
                " AND resolved_at IS NULL RETURNING *",
                [monitor, index],
            )
            row = await cur.fetchone()
        return _alert(row) if row else None

    async def list_alerts(
        self, *, open_only: bool = False, since: datetime | None = None, limit: int = 100
    ) -> list[Alert]:
        """Alerts newest first."""
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT * FROM alerts WHERE (NOT %s OR resolved_at IS NULL)"
                " AND (%s::timestamptz IS NULL OR created_at >= %s)"
                " ORDER BY created_at DESC, id DESC LIMIT %s",
                [open_only, since, since, limit],
            )
            rows = await cur.fetchall()
        return [_alert(r) for r in rows]


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True
