"""The public API surface against a committed snapshot: which (path, method) pairs exist and
which fields the search/ask/ingest request bodies take. A change here is an API change: update
the snapshot on purpose (delete ``tests/data/openapi_snapshot.json``, rerun, review, commit).

No server: ``create_app`` does no I/O and ``app.openapi()`` does not run the lifespan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SNAPSHOT = Path(__file__).resolve().parents[1] / "data" / "openapi_snapshot.json"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
BODIES = {"search": ("/v1/search", "post"), "ask": ("/v1/ask", "post"),
          "ingest": ("/v1/ingest", "post")}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def surface(spec: dict[str, Any]) -> dict[str, Any]:
    routes = sorted(
        [path, method.upper()]
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    )
    bodies = {}
    for name, (path, method) in BODIES.items():
        content = spec["paths"][path][method]["requestBody"]["content"]
        schema = _resolve(spec, content["application/json"]["schema"])
        bodies[name] = sorted(schema["properties"])
    return {"routes": routes, "request_bodies": bodies}


def test_openapi_matches_snapshot(tmp_path: Path) -> None:
    from groundwire.api.app import create_app
    from groundwire.settings import Settings

    app = create_app(Settings(data_dir=tmp_path / "data", database_url=None))
    current = surface(app.openapi())
    if not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
        pytest.fail(f"no API snapshot existed; wrote {SNAPSHOT}: review it and commit it")
    expected = json.loads(SNAPSHOT.read_text())
    assert current == expected, (
        "the API surface changed. If intended, delete "
        f"{SNAPSHOT.relative_to(SNAPSHOT.parents[2])}, rerun this test and commit the new file."
    )
