"""The s3 connector at a few hundred objects on moto's real S3 server (``tests/s3_harness.py``):
each object downloaded once by the first sync, none by a sync with no change, one by a change.
Prints the timings quoted in docs/connectors.md (``pytest -s -m slow`` this file)."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
from s3_harness import S3Harness

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_s3_sync_at_scale(tmp_path: Path, make_settings: Any,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from groundwire.bootstrap import build_app
    from groundwire.ingest.connectors import s3
    from groundwire.sources.service import SourceService

    bucket = S3Harness(tmp_path)
    rnd = random.Random(1)
    words = [f"w{i}" for i in range(3000)]

    def text(title: str) -> str:
        return f"# {title}\n\n" + " ".join(rnd.choice(words) for _ in range(400))

    for i in range(300):
        bucket.put(f"docs/f{i:03}.md", text(f"File {i}"))
    gets: list[str] = []
    download = s3.S3Connector._get

    def counted(self: s3.S3Connector, key: str, uri: str) -> bytes:
        gets.append(key)
        return download(self, key, uri)

    monkeypatch.setattr(s3.S3Connector, "_get", counted)
    settings = make_settings(embedding={"provider": "fake", "model": "fake-32"},
                             autotune={"enabled": False})
    try:
        async with build_app(settings) as gw:
            sources = SourceService(gw)
            await sources.add("bucket", "s3", bucket.options(), index="docs")

            async def sync(step: str) -> dict[str, Any]:
                gets.clear()
                started = time.perf_counter()
                report = await sources.sync("bucket")
                print(f"s3 {step}: {time.perf_counter() - started:.2f} s, "
                      f"{report['documents']}, {report['chunks_embedded']} chunks embedded, "
                      f"{len(gets)} GetObject")
                return report

            first = await sync("first")
            assert first["documents"]["indexed"] == 303 and len(gets) == 303
            quiet = await sync("no change")
            assert quiet["chunks_embedded"] == 0 and gets == []
            bucket.put("docs/f007.md", text("File 7, changed"))
            changed = await sync("one changed")
            assert changed["documents"]["indexed"] == 1 and gets == ["docs/f007.md"]
            bucket.delete("beta")
            deleted = await sync("one deleted")
            assert deleted["documents"]["deleted"] == 1 and gets == []
    finally:
        bucket.close()
