"""Failed documents of a named source (real git repository, real PostgreSQL): retried on
later syncs with backoff, parked as dead letter after the last attempt with their error
visible in the source's status, and out of the list once fixed at the source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sources_harness import GitHarness

pytestmark = pytest.mark.integration


async def test_failed_document_is_retried_then_dead_lettered(tmp_path: Path,
                                                             make_settings: Any) -> None:
    from groundwire.bootstrap import build_app
    from groundwire.sources.retries import RetryPolicy
    from groundwire.sources.service import SourceService

    repo = GitHarness(tmp_path)
    (repo.repo / "docs" / "empty.md").write_text("   \n")  # fails: parse.empty
    repo.commit("an empty page")
    settings = make_settings(embedding={"provider": "fake", "model": "fake-32"},
                             autotune={"enabled": False})
    async with build_app(settings) as gw:
        sources = SourceService(gw, retry=RetryPolicy(base_s=0.0, max_attempts=3))
        await sources.add("repo", "git", repo.options(), index="docs")
        first = await sources.sync("repo")
        assert first["documents"]["failed"] == 1 and first["errors"] == {"parse.empty": 1}
        view = await sources.get("repo")
        assert [(f["uri"], f["attempts"], f["code"]) for f in view["retrying"]] == [
            ("docs/empty.md", 1, "parse.empty")]
        assert view["next_run_at"] is not None  # the retry is scheduled by itself

        second = await sources.sync("repo")  # due at once (base 0 s): a retry pass
        assert second["changes"]["retried_failed"] is True
        assert second["documents"]["failed"] == 1 and second["chunks_embedded"] == 0
        third = await sources.sync("repo")
        assert third["dead_letter"] == ["docs/empty.md"]
        view = await sources.get("repo")
        assert view["retrying"] == []
        assert [(f["uri"], f["attempts"], f["code"]) for f in view["dead_letter"]] == [
            ("docs/empty.md", 3, "parse.empty")]
        fourth = await sources.sync("repo")  # parked: no retry pass any more
        assert fourth["changes"]["retried_failed"] is False

        repo.change("empty", "Now the page has real text about harbour lanterns.")
        fixed = await sources.sync("repo")
        assert fixed["documents"]["indexed"] == 1 and fixed["dead_letter"] == []
        view = await sources.get("repo")
        assert view["dead_letter"] == [] and view["documents"] == {"indexed": 4}
