"""The shape of the code that lint alone does not check: module size, and that every
top-level package is placed in the import-linter layers (an unplaced one is never checked)."""

from __future__ import annotations

import tomllib
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "groundwire"
PYPROJECT = SRC.parents[1] / "pyproject.toml"
MAX_LINES = 450


def test_no_module_is_over_450_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in SRC.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_every_top_level_package_is_in_a_layer() -> None:
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    placed = {name.strip().removeprefix("groundwire.")
              for layer in layers for name in layer.split("|")}
    top = {p.stem if p.is_file() else p.name for p in SRC.iterdir()
           if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert top - placed == set()
