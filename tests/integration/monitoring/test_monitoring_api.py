"""The monitoring API on a real ``groundwire serve``: record ids on responses, feedback,
export, alerts with a real webhook receiver on 127.0.0.1, time series and content gaps; and
``groundwire monitor`` / ``records export`` against the same database."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from live_server import LiveServer, running_server
from processes import clean_env, groundwire_exe

pytestmark = pytest.mark.integration

OFF_TOPIC = ["Who painted the Mona Lisa?", "What is the capital of Australia?",
             "How do I bake sourdough bread?", "Who won the 1998 football world cup?"]


class Receiver:
    """A webhook endpoint: records every POSTed JSON body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                length = int(self.headers.get("content-length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture(scope="module")
def server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory, receiver: Receiver
) -> Iterator[LiveServer]:
    env = {"GROUNDWIRE_MONITORING__WEBHOOK_URL": receiver.url,
           "GROUNDWIRE_MONITORING__MIN_SAMPLES": "3",
           "GROUNDWIRE_MONITORING__MAX_NO_ANSWER_RATE": "0.5",
           "GROUNDWIRE_MONITORING__EVALUATE_INTERVAL_S": "3600"}
    with running_server(pg_admin_url, tmp_path_factory.mktemp("mon"), env) as live:
        yield live


def test_records_feedback_alerts_webhook_series_and_gaps(
    server: LiveServer, receiver: Receiver
) -> None:
    with server.client() as client:
        search = client.post("/v1/search", json={"query": "refund policy", "top_k": 3})
        assert search.status_code == 200
        search_id = search.json()["record_id"]
        asked = client.post("/v1/ask", json={"question": "How often are encryption keys "
                                             "rotated?"}).json()
        assert asked["abstained"] is False and asked["record_id"]
        for question in OFF_TOPIC:
            assert client.post("/v1/ask", json={"question": question}).json()["abstained"]
        chat = client.post("/v1/chat/completions", json={
            "model": "groundwire", "messages": [{"role": "user", "content": "What does the "
                                                 "Team plan cost?"}]}).json()
        chat_id = chat["groundwire"]["record_id"]
        assert chat_id and len({search_id, asked["record_id"], chat_id}) == 3

        # feedback: linked to the record; unknown record 404; bad body 422
        ok = client.post("/v1/feedback", json={"record_id": asked["record_id"],
                                               "helpful": False, "comment": "wrong section",
                                               "expected_passage": "policies/security.md"})
        assert ok.status_code == 201 and ok.json()["record_id"] == asked["record_id"]
        missing = client.post("/v1/feedback", json={
            "record_id": "00000000-0000-0000-0000-000000000000", "helpful": True})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        assert client.post("/v1/feedback", json={"helpful": True}).status_code == 422

        # evaluate on demand: 4 of 6 answers abstained > 0.5 -> one alert, webhook called
        evaluated = client.post("/v1/monitor/evaluate").json()
        opened = {(a["index"], a["monitor"]) for a in evaluated["opened"]}
        assert ("default", "no_answer_rate") in opened
        alerts = client.get("/v1/alerts", params={"state": "open"}).json()["alerts"]
        no_answer = next(a for a in alerts if a["monitor"] == "no_answer_rate")
        assert no_answer["value"] == pytest.approx(4 / 6, abs=1e-4)
        assert no_answer["state"] == "open"
        events = [(b["event"], b["alert"]["monitor"]) for b in receiver.bodies]
        assert ("alert.opened", "no_answer_rate") in events
        assert client.post("/v1/monitor/evaluate").json()["opened"] == []  # no duplicate
        assert len([e for e in receiver.bodies
                    if e["alert"]["monitor"] == "no_answer_rate"]) == 1

        state = client.get("/v1/monitor").json()
        by_name = {m["name"]: m for m in state["monitors"] if m["index"] == "default"}
        assert by_name["no_answer_rate"]["status"] == "firing"
        assert by_name["negative_feedback_rate"]["samples"] == 1
        assert state["records"]["dropped"] == 0

        # time series from the records: 7 requests (1 search, 6 asks incl. chat)
        series = client.get("/v1/monitor/timeseries",
                            params={"metric": "requests", "bucket": "1h"}).json()
        assert sum(p["value"] for p in series["points"]) == 7
        rate = client.get("/v1/monitor/timeseries",
                          params={"metric": "no_answer_rate", "bucket": "1d"}).json()
        assert rate["points"][-1]["value"] == pytest.approx(4 / 6, abs=1e-4)
        negative = client.get("/v1/monitor/timeseries",
                              params={"metric": "negative_feedback_rate", "bucket": "5m"})
        assert [(p["value"], p["count"]) for p in negative.json()["points"]] == [(1.0, 1)]
        p95 = client.get("/v1/monitor/timeseries", params={
            "metric": "latency_p95", "bucket": "1d", "kind": "search"}).json()["points"]
        assert len(p95) == 1 and p95[0]["count"] == 1 and p95[0]["value"] > 0
        bad = client.get("/v1/monitor/timeseries", params={"metric": "nope"})
        assert bad.status_code == 422

        # export
        exported = client.get("/v1/records", params={"format": "csv", "kind": "ask"})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert len(rows) == 6 and {r["kind"] for r in rows} == {"ask"}
        lines = client.get("/v1/records").text.splitlines()
        assert json.loads(lines[0])["id"] == search_id and len(lines) == 7

        gaps = client.get("/v1/gaps").json()["clusters"]
        assert sum(c["size"] for c in gaps) <= 5  # only unanswered / down-voted questions


def test_cli_monitor_and_export(server: LiveServer, tmp_path: Path) -> None:
    env = _server_env(server)
    result = run_cli(["monitor", "--json"], env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    state = json.loads(result.stdout)
    assert any(a["monitor"] == "no_answer_rate" for a in state["open_alerts"])
    assert "gaps" in state and state["monitors"]
    out = tmp_path / "records.jsonl"
    result = run_cli(["records", "export", "--format", "jsonl", "--since", "1d", "-o",
                      str(out)], env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(out.read_text().splitlines()) >= 7
    bad = run_cli(["records", "export", "--format", "xml"], env=env, cwd=tmp_path)
    assert bad.returncode == 2


def run_cli(
    args: list[str], *, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([groundwire_exe(), *args], env=clean_env(**env), cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def _server_env(server: LiveServer) -> dict[str, str]:
    """The serving process's database settings (read from its environment)."""
    import psutil

    environ = psutil.Process(server.process.pid).environ()
    return {k: v for k, v in environ.items() if k.startswith("GROUNDWIRE_")}
