"""Schedules, credential references and masking of named sources (no I/O beyond env/files)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from groundwire.errors import InvalidRequest
from groundwire.sources.schedule import check_schedule, next_run
from groundwire.sources.secrets import check_no_clear_secrets, mask, resolve
from groundwire.sources.service import _scrub

NOON = datetime(2026, 1, 5, 12, 0, 7, tzinfo=UTC)


@pytest.mark.parametrize(("text", "normal", "delta"), [
    ("every 15m", "every 15m", timedelta(minutes=15)),
    ("  Every   2H ", "every 2h", timedelta(hours=2)),
    ("every 30s", "every 30s", timedelta(seconds=30)),
    ("every 1d", "every 1d", timedelta(days=1)),
])
def test_every_schedules(text: str, normal: str, delta: timedelta) -> None:
    assert check_schedule(text) == normal
    assert next_run(normal, NOON) == NOON + delta


def test_cron_schedules_run_at_the_next_match() -> None:
    assert check_schedule("*/15 * * * *") == "*/15 * * * *"
    assert next_run("*/15 * * * *", NOON) == datetime(2026, 1, 5, 12, 15, tzinfo=UTC)
    assert next_run("0 3 * * *", NOON) == datetime(2026, 1, 6, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["every 0m", "every 5 weeks", "sometimes", "61 * * * *"])
def test_bad_schedules_are_coded(bad: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_schedule(bad)
    assert caught.value.code == "source.invalid_schedule"


def test_no_schedule() -> None:
    assert check_schedule(None) is None and check_schedule(" ") is None
    assert next_run(None) is None


@pytest.mark.parametrize("options", [
    {"password": "hunter2"},
    {"api_key": "sk-123"},
    {"headers": {"Authorization": "Bearer abc"}},
    {"url": "postgresql://app:s3cret@db/app"},
    {"repo": "https://user:ghp_token@github.com/o/r.git"},
])
def test_clear_credentials_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_no_clear_secrets(options)
    assert caught.value.code == "source.secret_in_clear"


def test_references_are_accepted_resolved_late_and_shown_as_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("GW_TEST_DB_URL", "postgresql://app:s3cret@db/app")
    options = {"url": "env:GW_TEST_DB_URL", "token": f"file:{secret_file}",
               "query": "SELECT 1", "nested": ["env:GW_TEST_DB_URL"]}
    check_no_clear_secrets(options)
    assert resolve(options) == {"url": "postgresql://app:s3cret@db/app",
                                "token": "from-a-file", "query": "SELECT 1",
                                "nested": ["postgresql://app:s3cret@db/app"]}
    assert mask(options) == options  # references are not secrets
    assert mask({"password": "x", "url": "https://u:p@h/x", "path": "/srv"}) == {
        "password": "***", "url": "***", "path": "/srv"}


def test_a_missing_reference_names_the_reference_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GW_TEST_MISSING", raising=False)
    with pytest.raises(InvalidRequest) as caught:
        resolve({"token": "env:GW_TEST_MISSING"})
    assert caught.value.code == "source.secret_missing"
    assert "GW_TEST_MISSING" in caught.value.message


def test_messages_are_scrubbed_of_resolved_secrets() -> None:
    options = {"url": "env:DB"}
    resolved = {"url": "postgresql://app:s3cret@db/app"}
    message = "cannot connect to postgresql://app:s3cret@db/app (s3cret)"
    scrubbed = _scrub(message, options, resolved)
    assert "s3cret" not in scrubbed
    assert _scrub("fetch https://me:tok@host/r failed", {}) == "fetch https://me:***@host/r failed"
