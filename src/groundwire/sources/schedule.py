"""Source schedules: ``"every 15m"`` (``s``, ``m``, ``h``, ``d``) or a cron expression
(5 fields, or 6 with seconds last; croniter)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from groundwire.errors import InvalidRequest

_EVERY = re.compile(r"^every\s+(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def check_schedule(schedule: str | None) -> str | None:
    """The normalised schedule (None/empty: none); ``InvalidRequest`` code
    ``source.invalid_schedule`` for anything else."""
    if schedule is None or not schedule.strip():
        return None
    text = " ".join(schedule.strip().lower().split())
    match = _EVERY.match(text)
    if match:
        if int(match.group(1)) <= 0:
            raise InvalidRequest(f"schedule interval must be positive: {schedule!r}",
                                 code="source.invalid_schedule")
        return text
    from croniter import croniter

    if not croniter.is_valid(text):
        raise InvalidRequest(
            f"invalid schedule {schedule!r}: use 'every 15m' (s, m, h, d) or a cron "
            "expression such as '*/15 * * * *'", code="source.invalid_schedule")
    return text


def next_run(schedule: str | None, after: datetime | None = None) -> datetime | None:
    """When a source with ``schedule`` runs next after ``after`` (default now, UTC)."""
    if schedule is None:
        return None
    after = after or datetime.now(UTC)
    match = _EVERY.match(schedule)
    if match:
        return after + timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    from croniter import croniter

    result = croniter(schedule, after).get_next(datetime)
    assert isinstance(result, datetime)
    return result
