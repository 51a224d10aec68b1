"""Install footprint (issue 23): how much of this virtualenv a plain ``pip install groundwire``
needs and how much only the extra ``groundwire[torch]`` brings.

Walks the installed distributions' requirement graph (``importlib.metadata``, markers
evaluated for this interpreter): the closure of groundwire's base requirements vs the closure
of the ``torch`` extra, and sums each distribution's installed files (its ``RECORD``). Only
what is installed here is counted (an optional dependency not installed is skipped), so it
reports this venv's split, not a fresh resolution; ``du`` of the whole venv is printed too.

    .venv/bin/python benchmarks/install_footprint.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from _common import report

_NAME = re.compile(r"^[A-Za-z0-9._-]+")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(dist: str, extras: tuple[str, ...] = ()) -> list[tuple[str, tuple[str, ...]]]:
    from packaging.requirements import Requirement

    out = []
    for text in metadata.requires(dist) or []:
        req = Requirement(text)
        envs = [{"extra": e} for e in extras] or [{"extra": ""}]
        if req.marker is not None and not any(req.marker.evaluate(env) for env in envs):
            continue
        out.append((_norm(req.name), tuple(sorted(req.extras))))
    return out


def closure(roots: list[tuple[str, tuple[str, ...]]]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name, extras = todo.pop()
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement not installed here
        key = name if not extras else f"{name}[{','.join(extras)}]"
        if key in seen:
            continue
        seen.add(key)
        todo.extend(_requirements(name, extras))
    return {k.split("[")[0] for k in seen}


def size_mb(name: str) -> float:
    dist = metadata.distribution(name)
    total = 0
    for file in dist.files or []:
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    return total / 1e6


def main() -> None:
    base = closure([("groundwire", ())])
    with_torch = closure([("groundwire", ("torch",))])
    only_torch = with_torch - base
    sizes = {name: size_mb(name) for name in with_torch - {"groundwire"}}
    venv = Path(sys.prefix)
    du = subprocess.run(["du", "-sm", str(venv)], capture_output=True, text=True).stdout.split()
    result: dict[str, Any] = {
        "venv_du_mb": int(du[0]) if du else None,
        "base_mb": round(sum(sizes[n] for n in base if n in sizes)),
        "torch_extra_adds_mb": round(sum(sizes[n] for n in only_torch)),
        "base_distributions": len(base), "torch_extra_adds": sorted(only_torch),
    }
    rows = [{"distribution": n, "MB": round(sizes[n], 1)}
            for n in sorted(only_torch, key=lambda n: -sizes[n])]
    report("install_footprint", result, rows)


if __name__ == "__main__":
    main()
