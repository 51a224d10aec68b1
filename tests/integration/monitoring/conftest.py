"""Fixtures of the monitoring tests: an in-process app on a fresh database with the small
``live_server.CORPUS`` ingested and the real embedding model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from live_server import write_corpus

from groundwire.app import Groundwire


@pytest.fixture
def monitored_app(
    make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path
) -> Callable[..., Any]:
    """``async with monitored_app(**settings overrides) as gw``: corpus ingested, warm."""
    from contextlib import asynccontextmanager

    from groundwire.bootstrap import build_app

    corpus = write_corpus(tmp_path / "corpus")

    @asynccontextmanager
    async def open_app(**overrides: Any) -> AsyncIterator[Groundwire]:
        settings = make_settings(**overrides)
        async with build_app(settings, embedder=real_embedder) as gw:
            await gw.ingest_path(corpus)
            await gw.warm()
            yield gw

    return open_app
