"""Shared bits of the benchmark scripts: dataset location, result printing."""

from __future__ import annotations

import json
import platform
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
