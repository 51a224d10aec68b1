"""Fixtures shared by unit tests (opt-in: none is autouse here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def clean_settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GROUNDWIRE_* variable and an empty working directory (no groundwire.toml), so a
    test sees only the settings it sets; monkeypatch restores both afterwards."""
    for key in list(os.environ):
        if key.startswith("GROUNDWIRE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
