"""Job state transitions, failure outcome and backoff (jobs/states.py), and the retry
strategy the tasks are registered with (jobs/tasks.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from groundwire.jobs import states
from groundwire.jobs.states import (
    CANCELLED,
    FAILED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    JobRecord,
    backoff_s,
    can_transition,
    state_after_failure,
)


@pytest.mark.parametrize(("old", "new"), [
    (QUEUED, RUNNING), (QUEUED, CANCELLED), (RUNNING, SUCCEEDED), (RUNNING, FAILED),
    (RUNNING, CANCELLED), (RUNNING, QUEUED), (FAILED, QUEUED), (CANCELLED, QUEUED),
])
def test_allowed_transitions(old: str, new: str) -> None:
    assert can_transition(old, new)


@pytest.mark.parametrize(("old", "new"), [
    (SUCCEEDED, QUEUED), (SUCCEEDED, RUNNING), (FAILED, RUNNING), (QUEUED, SUCCEEDED),
    (QUEUED, FAILED), (CANCELLED, RUNNING), ("nonsense", QUEUED),
])
def test_forbidden_transitions(old: str, new: str) -> None:
    assert not can_transition(old, new)


def test_every_state_has_its_transitions_and_final_states_are_terminal_or_retryable() -> None:
    assert set(states.TRANSITIONS) == set(states.STATES)
    assert states.TRANSITIONS[SUCCEEDED] == frozenset()
    for final in states.FINAL - {SUCCEEDED}:
        assert states.TRANSITIONS[final] == frozenset({QUEUED})  # only a retry leaves them


@pytest.mark.parametrize(("attempt", "max_attempts", "expected"), [
    (1, 3, QUEUED), (2, 3, QUEUED), (3, 3, FAILED), (1, 1, FAILED), (5, 3, FAILED),
])
def test_state_after_failure(attempt: int, max_attempts: int, expected: str) -> None:
    assert state_after_failure(attempt, max_attempts) == expected


def test_backoff_is_exponential() -> None:
    assert [backoff_s(n, 2) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert [backoff_s(n, 1) for n in (1, 2, 3)] == [1, 1, 1]


def test_record_flags() -> None:
    dead = JobRecord(id="a", kind="ingest", tenant="t", owner="", state=FAILED)
    running = JobRecord(id="b", kind="ingest", tenant="t", owner="", state=RUNNING)
    assert dead.finished and dead.dead_letter
    assert not running.finished and not running.dead_letter


def test_retry_strategy_matches_max_attempts_and_backoff() -> None:
    """procrastinate counts retries, we count attempts: with max_attempts=3 a job runs three
    times, waiting retry_backoff_s ** n seconds before retry n — the same outcome
    ``state_after_failure`` gives the row."""
    from procrastinate.jobs import Job

    from groundwire.jobs.tasks import retry_strategy
    from groundwire.settings import JobSettings

    strategy = retry_strategy(JobSettings(max_attempts=3, retry_backoff_s=2))
    waits = []
    for previous in range(4):
        job = Job(id=1, queue="ingest", lock=None, queueing_lock=None,
                  task_name="groundwire.ingest", task_kwargs={}, attempts=previous)
        decision = strategy.get_retry_decision(exception=RuntimeError("x"), job=job)
        expected_state = state_after_failure(previous + 1, 3)
        assert (decision is None) == (expected_state == FAILED)
        if decision is not None:
            assert decision.retry_at is not None
            waits.append(round((decision.retry_at - datetime.now(UTC)).total_seconds()))
    assert waits == [backoff_s(1, 2), backoff_s(2, 2)] == [2, 4]
