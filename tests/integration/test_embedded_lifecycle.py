"""The embedded PostgreSQL is shared by processes on one data dir and stopped by the last one,
including when ``serve`` ends by SIGTERM (where atexit hooks do not run)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest
from processes import clean_env, groundwire_exe

pytestmark = pytest.mark.integration
GROUNDWIRE = groundwire_exe()


def postgres_running(pgdata: Path) -> bool:
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmd = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and str(pgdata) in " ".join(cmd):
            return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout_s: float, what: str,
               alive: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``check`` every 0.2 s (never a busy loop); fail naming ``what`` at the deadline,
    or at once when ``alive`` (the process the wait depends on) has exited."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if alive is not None and alive.poll() is not None:
            pytest.fail(f"{what}: the process exited with {alive.returncode} first")
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout_s:.0f} s: {what}")
        time.sleep(0.2)


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_stops_its_embedded_server_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "d"
    env = clean_env(GROUNDWIRE_DATA_DIR=str(data))
    port = free_port()
    server = subprocess.Popen(
        [str(GROUNDWIRE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    pgdata = (data / "pgdata").resolve()
    try:
        wait_until(lambda: healthy(port), 180, "serve answers /healthz", alive=server)
        assert postgres_running(pgdata)
        # A second process (a CLI command) joins the same server and leaves it running.
        status = subprocess.run([str(GROUNDWIRE), "status", "--json"], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["documents"]["indexed"] == 0
        assert postgres_running(pgdata)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    assert server.returncode is not None
    wait_until(lambda: not postgres_running(pgdata), 30,
               "the last process out stops the embedded server")
    assert json.loads((pgdata / ".handle_pids.json").read_text()) == []


def test_processes_started_at_once_on_a_fresh_data_dir_share_one_server(tmp_path: Path) -> None:
    """Three processes (``serve`` and ``worker`` from one supervisor, say) start together on a
    data dir with no server yet: each starts or joins the one server and none fails (without
    the server lock two of them ran initdb, and one failed with "File exists"); the last one to
    exit stops it."""
    data = tmp_path / "fresh"
    env = clean_env(GROUNDWIRE_DATA_DIR=str(data))
    procs = [subprocess.Popen([str(GROUNDWIRE), "db", "status", "--json"], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, out + err
        assert json.loads(out)["applied"] == []  # each one reached the fresh database
    assert not postgres_running((data / "pgdata").resolve())
