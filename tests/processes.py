"""Running the real ``groundwire`` console script from tests."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def groundwire_exe() -> str:
    """The console script next to the running interpreter (the project's venv)."""
    candidate = Path(sys.executable).parent / "groundwire"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("groundwire")
    assert found, "the groundwire console script is not installed"
    return found


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any GROUNDWIRE_* variable, plus ``settings``
    (e.g. ``GROUNDWIRE_DATABASE_URL=...``), so a developer's own config never leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    env.update(settings)
    return env
