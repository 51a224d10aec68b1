"""Real ``groundwire worker`` subprocesses for integration tests (not a conftest).

``start_worker(db_url, workdir, env)`` starts one on ``db_url`` (fake embedder by default, so
it starts in about a second) and returns a ``Worker``; ``worker.kill()`` is SIGKILL (no
cleanup, its heartbeat just stops), ``worker.stop()`` SIGTERM (running jobs finish first).
``job_row(db_url, job_id)`` reads a job's row directly. Import with ``from workers import ...``
(``tests/`` is on ``sys.path``, see tests/live_server.py).
"""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from processes import clean_env, groundwire_exe

FAST_JOB_SETTINGS = {
    "GROUNDWIRE_EMBEDDING__PROVIDER": "fake",
    "GROUNDWIRE_EMBEDDING__MODEL": "fake-32",
    "GROUNDWIRE_AUTOTUNE__ENABLED": "false",
    "GROUNDWIRE_JOBS__POLL_INTERVAL_S": "0.2",
    "GROUNDWIRE_JOBS__STALLED_AFTER_S": "3",
    "GROUNDWIRE_JOBS__RETRY_BACKOFF_S": "1",
}


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-job, as on a crash or OOM kill."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 60.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no worker log)"


def worker_env(db_url: str, workdir: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker (and of a ``serve`` sharing its jobs) on ``db_url``."""
    return clean_env(GROUNDWIRE_DATABASE_URL=db_url, GROUNDWIRE_DATA_DIR=str(workdir / "data"),
                     PYTHONUNBUFFERED="1", **{**FAST_JOB_SETTINGS, **(env or {})})


def start_worker(db_url: str, workdir: Path, env: dict[str, str] | None = None, *,
                 name: str = "worker", args: tuple[str, ...] = ()) -> Worker:
    """Start ``groundwire worker`` on ``db_url`` (its log: ``workdir/<name>.log``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [groundwire_exe(), "worker", *args], cwd=workdir,
            env=worker_env(db_url, workdir, env), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT)
    return Worker(process, log_path)


def job_row(db_url: str, job_id: str) -> dict[str, Any]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        row = conn.execute("SELECT * FROM jobs WHERE id = %s", [job_id]).fetchone()
    assert row is not None, f"no job row {job_id}"
    return dict(row)
