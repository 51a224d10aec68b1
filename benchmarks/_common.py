"""Shared bits of the benchmark scripts: dataset location, result printing."""

from __future__ import annotations

import json
import platform
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "machine": platform.machine()}


def report(name: str, result: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Print the JSON result, then a Markdown table of ``rows``."""
    print(json.dumps({"benchmark": name, "machine": machine(), **result}, indent=2))
    if rows:
        keys = list(rows[0])
        print()
        print("| " + " | ".join(keys) + " |")
        print("|" + "---|" * len(keys))
        for row in rows:
            print("| " + " | ".join(str(row[k]) for k in keys) + " |")


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for a benchmark's own ``groundwire serve``)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout_s: float = 300) -> None:
    """Block until ``base``/readyz answers 200; exit if the server dies or never gets ready."""
    import httpx

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server {base} exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server {base} not ready in time")
