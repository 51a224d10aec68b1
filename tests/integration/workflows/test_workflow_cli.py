"""``groundwire review`` as an operator runs it: a subprocess on a real database holding two
drafts waiting for review. Edit + approve queues the delivery job; another reviewer's claim
is a conflict (exit 2, ``review.conflict``); reject records the decision. Marked slow: each
process builds the app (about 2 s idle, far more on a loaded machine)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from processes import groundwire_exe

from groundwire.stores.postgres.store import PostgresStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # four CLI processes


async def two_drafts(database_url: str) -> list[str]:
    store = PostgresStore(database_url)
    await store.open()
    try:
        ids = []
        for key in ("a", "b"):
            row, _ = await store.add_workflow_event("wf", key, "default",
                                                    {"subject": f"S{key}", "body": "B"})
            await store.update_workflow_event(row["id"], {
                "state": "review", "draft": "the draft text", "confidence": 0.1,
                "drafted_at": datetime.now(UTC)})
            ids.append(row["id"])
        return ids
    finally:
        await store.close()


def test_review_commands(database_url: str, tmp_path: Path) -> None:
    first, second = asyncio.run(two_drafts(database_url))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    env.update({"GROUNDWIRE_DATABASE_URL": database_url, "GROUNDWIRE_LOG_LEVEL": "WARNING",
                "GROUNDWIRE_WORKFLOWS": json.dumps([{
                    "name": "wf", "callback_url": "http://127.0.0.1:9/hook",
                    "callback_secret": "cli-test-secret"}])})

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([groundwire_exe(), "review", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)

    listed = run("list", "wf", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert sorted(e["id"] for e in json.loads(listed.stdout)) == sorted([first, second])
    assert "cli-test-secret" not in listed.stdout + listed.stderr

    approved = run("approve", first, "--text", "An edited reply.", "--as", "alice", "--json")
    assert approved.returncode == 0, approved.stderr[-2000:]
    row: dict[str, Any] = json.loads(approved.stdout)
    assert row["state"] == "approved" and row["reply"] == "An edited reply."
    assert row["decided_by"] == "default/alice" and row["edit_distance"] == 1.0

    conflict = run("claim", first, "--as", "bob", "--json")
    assert conflict.returncode == 2
    assert json.loads(conflict.stdout)["error"]["code"] == "review.conflict"
    rejected = run("reject", second, "--reason", "off topic", "--as", "bob", "--json")
    assert rejected.returncode == 0 and json.loads(rejected.stdout)["state"] == "rejected"

    with psycopg.connect(database_url) as conn:
        jobs = conn.execute("SELECT kind, state, params FROM jobs").fetchall()
        decisions = conn.execute(
            "SELECT event_id, action, actor FROM workflow_decisions ORDER BY id").fetchall()
    assert jobs == [("workflow_event", "queued", {"event_id": first, "workflow": "wf"})]
    assert [(e == first, a, who) for e, a, who in decisions] == [
        (True, "claim", "default/alice"), (True, "approve", "default/alice"),
        (False, "claim", "default/bob"), (False, "reject", "default/bob")]
