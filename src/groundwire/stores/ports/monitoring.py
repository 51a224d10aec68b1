"""Monitoring ports: answer records and feedback, the aggregates monitors read, alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from groundwire.domain.records import Alert, AnswerRecord, FeedbackEntry


# ---------------------------------------------------------------------- monitoring
@runtime_checkable
class RecordStore(Protocol):
    """Answer records and their feedback (``monitoring/recorder.py``, eval sets).

    * ``insert_records`` is idempotent by record id.
    * ``get_record``: the record or None (also for an id that is not a record id).
    * ``list_records``: oldest first, filtered; page with ``after`` = the last record's
      ``(created_at, id)``.
    * ``purge_records(before)`` deletes older records (their feedback with them) and old
      resolved alerts; returns how many records it deleted.
    * ``add_feedback`` raises ``NotFound`` when the record does not exist.
    * ``positive_feedback_records(index)``: (question, cited uris, expected passage or '') of
      answered asks on ``index`` with helpful and no unhelpful feedback, oldest first.
    """

    async def insert_records(self, records: Sequence[AnswerRecord]) -> None: ...

    async def get_record(self, record_id: str) -> AnswerRecord | None: ...

    async def list_records(
        self, *, since: datetime | None = None, until: datetime | None = None,
        index: str | None = None, kind: str | None = None, limit: int = 1000,
        after: tuple[datetime, str] | None = None,
    ) -> list[AnswerRecord]: ...

    async def purge_records(self, before: datetime) -> int: ...

    async def add_feedback(
        self, record_id: str, *, helpful: bool, comment: str | None,
        expected_passage: str | None, principal: str,
    ) -> FeedbackEntry: ...

    async def positive_feedback_records(
        self, index: str
    ) -> list[tuple[str, list[str], str]]: ...


@runtime_checkable
class MonitoringQueries(Protocol):
    """Aggregates over answer records for the monitors (``monitoring/monitors.py``, drift,
    gaps, dashboards).

    * ``record_indexes(since)``: indexes with a record since then, sorted.
    * ``window_aggregates``: per index, counts and rates of the records since ``since``.
    * ``recent_queries(index, model, n)``: the latest ``n`` (top score, query vector) of
      records embedded by ``model``, newest first.
    * ``gap_candidates``: records the corpus did not serve well (abstained, top score below
      ``low_score``, or unhelpful feedback), newest first.
    * ``timeseries``: (bucket start, value or None, count) per bucket, oldest first; an
      unknown ``metric`` raises ``InvalidRequest``.
    """

    async def record_indexes(self, since: datetime) -> list[str]: ...

    async def window_aggregates(
        self, since: datetime, *, low_score: float
    ) -> dict[str, dict[str, Any]]: ...

    async def recent_queries(
        self, index: str, model: str, n: int
    ) -> list[tuple[float | None, list[float]]]: ...

    async def gap_candidates(
        self, since: datetime, *, low_score: float, model: str, limit: int = 5000
    ) -> list[dict[str, Any]]: ...

    async def timeseries(
        self, metric: str, *, bucket_s: int, since: datetime, until: datetime | None = None,
        index: str | None = None, kind: str | None = None, low_score: float = 0.0,
    ) -> list[tuple[datetime, float | None, int]]: ...


@runtime_checkable
class AlertStore(Protocol):
    """Monitor alerts.

    * ``open_alert`` inserts unless (monitor, index) already has an open alert; returns the
      new alert or None. ``resolve_alert`` resolves the open one and returns it (None when
      there was none). ``list_alerts``: newest first, only open ones with ``open_only``.
    """

    async def open_alert(self, alert: Alert) -> Alert | None: ...

    async def resolve_alert(self, monitor: str, index: str) -> Alert | None: ...

    async def list_alerts(
        self, *, open_only: bool = False, since: datetime | None = None, limit: int = 100
    ) -> list[Alert]: ...
