"""The web session's pure parts: the sealed session token, the sign-in redirect target, the
server secret file, the quoted span of a cited passage, and the dashboard's shaping."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from cryptography.fernet import Fernet

from groundwire.api.dashboard import build_dashboard, percentile, stage_latencies
from groundwire.api.routes.app_pages import split_quote, stitch
from groundwire.api.routes.session import SessionCodec, csrf_matches, load_secret, safe_next

KEY = "gw_0123456789ab_s3cretS3cretS3cret"


def test_session_token_hides_the_key_and_rejects_tampering_and_age() -> None:
    codec = SessionCodec(Fernet.generate_key())
    token = codec.seal(KEY)
    assert KEY not in token and "s3cret" not in token
    assert codec.open(token) == KEY
    assert codec.open(token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]) is None
    assert SessionCodec(Fernet.generate_key()).open(token) is None  # another server's secret
    assert codec.open("not a token") is None
    expired = SessionCodec(Fernet.generate_key(), ttl_s=0)
    old = expired._fernet.encrypt_at_time(b'{"k": "x"}', 0).decode()
    assert expired.open(old) is None


def test_secret_file_is_created_once_private(tmp_path: Path) -> None:
    first = load_secret(tmp_path / "data")
    assert load_secret(tmp_path / "data") == first
    mode = (tmp_path / "data" / "web-session.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    Fernet(first)  # a valid key


def test_next_is_always_a_local_path() -> None:
    assert safe_next("/app/c/abc?x=1") == "/app/c/abc?x=1"
    for hostile in ("//evil.example/x", "https://evil.example", "/\\evil.example", "", None,
                    "javascript:alert(1)", "app"):
        assert safe_next(hostile) == "/app"


def test_csrf_matches_only_equal_non_empty_tokens() -> None:
    assert csrf_matches("abc", "abc")
    assert not csrf_matches("abc", "abd")
    assert not csrf_matches("", "")
    assert not csrf_matches(None, "abc")


def test_split_quote_marks_the_quote_even_with_other_whitespace() -> None:
    text = "Intro.\nEncryption keys are\nrotated every 90 days. Outro."
    assert split_quote(text, "Encryption keys are rotated every 90 days.") == (
        "Intro.\n", "Encryption keys are\nrotated every 90 days.", " Outro.")
    assert split_quote(text, "Outro.") == ("Intro.\nEncryption keys are\nrotated every 90 days. ",
                                           "Outro.", "")
    assert split_quote(text, "not there") == (text, "", "")


def test_percentile_and_stage_latencies() -> None:
    assert percentile([], 0.5) is None
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([10.0], 0.95) == 10.0
    records = [SimpleNamespace(timings={"embed": float(i), "answer": 10.0 * i}, latency_ms=11.0 * i)
               for i in range(1, 101)]
    rows = {r["stage"]: r for r in stage_latencies(records)}
    assert rows["embed"] == {"stage": "embed", "p50": 50.5, "p95": 95.0, "n": 100}
    assert rows["total"]["p95"] == 1045.5
    assert [r["stage"] for r in stage_latencies(records)][0] == "total"  # slowest first


def test_dashboard_days_gaps_totals_and_budget() -> None:
    now = datetime(2026, 3, 10, 15, tzinfo=UTC)
    since = now - timedelta(days=2)
    series = {
        "requests": [{"t": "2026-03-08T00:00:00+00:00", "value": 2, "count": 2},
                     {"t": "2026-03-10T00:00:00+00:00", "value": 3, "count": 3}],
        "cost_per_answer": [{"t": "2026-03-10T00:00:00+00:00", "value": 0.5, "count": 3}],
        "feedback": [{"t": "2026-03-10T00:00:00+00:00", "value": 1, "count": 1}],
        "groundedness": [{"t": "2026-03-10T00:00:00+00:00", "value": 0.9, "count": 3}],
    }
    records = [SimpleNamespace(abstained=i == 0, groundedness=0.8, timings={}, latency_ms=None)
               for i in range(5)]
    d = build_dashboard(series, records, budget_per_day=1.0, since=since, now=now)
    assert d["days"] == ["2026-03-08", "2026-03-09", "2026-03-10"]
    assert d["answers"] == [2, 0, 3]
    assert d["groundedness"] == [None, None, 0.9]
    assert d["cost"] == [None, None, 1.5]
    assert d["budget_line"] == [1.0, 1.0, 1.0]
    assert d["feedback"] == [0, 0, 1]
    assert d["totals"] == {"answers": 5, "abstained": 1, "abstention_rate": 0.2,
                           "groundedness": 0.8, "feedback": 1, "cost": 1.5}
    assert d["x"][0] == int(datetime(2026, 3, 8, tzinfo=UTC).timestamp())
    assert build_dashboard({}, [], budget_per_day=None, since=since, now=now)["budget_line"] \
        is None


def test_stitch_rebuilds_the_document_drops_overlaps_marks_the_span_and_shows_holes() -> None:
    doc = "AAAA BBBB CCCC DDDD EEEE"

    def chunk(a: int, b: int) -> SimpleNamespace:
        return SimpleNamespace(char_start=a, char_end=b, text=doc[a:b])

    # overlapping chunks 0-10 and 5-15, a hole 15-20, then 20-24; mark "BBBB CC"
    segments = stitch([chunk(20, 24), chunk(5, 15), chunk(0, 10)], 5, 12)
    assert "".join(s["text"] for s in segments if not s["gap"]) == "AAAA BBBB CCCC EEEE"
    assert [s["text"] for s in segments if s["mark"]] == ["BBBB ", "CC"]
    assert [s["gap"] for s in segments].count(True) == 1
    assert segments[-1] == {"text": "EEEE", "mark": False, "gap": False}
    headed = [SimpleNamespace(char_start=0, char_end=4, text="AAAA", heading_path=("T", "One")),
              SimpleNamespace(char_start=5, char_end=9, text="BBBB", heading_path=("T", "Two"))]
    assert [s["text"] for s in stitch(headed, 0, 0) if s.get("heading")] == ["One", "Two"]
    assert stitch([chunk(0, 4), chunk(0, 4)], 0, 0) == [
        {"text": "AAAA", "mark": False, "gap": False}]
