"""Fixtures for the LLM answer layer: a small ingested corpus in an in-process app whose
providers are real fault-injecting HTTP servers on 127.0.0.1 (tests/support/fault_llm.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from live_server import write_corpus
from support.fault_llm import FaultLLMServer
from support.llm import grounded_reply, provider

from groundwire.app import Groundwire


@pytest.fixture
def servers() -> Iterator[tuple[FaultLLMServer, FaultLLMServer]]:
    with FaultLLMServer(mode="ok") as primary, FaultLLMServer(mode="ok") as secondary:
        primary.reply = grounded_reply
        secondary.reply = grounded_reply
        yield primary, secondary


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def llm_app(
    make_settings: Callable[..., Any], real_embedder: Any, corpus: Path,
    servers: tuple[FaultLLMServer, FaultLLMServer],
) -> Callable[..., Any]:
    """``async with llm_app(**settings overrides) as gw``: corpus ingested, providers =
    primary then secondary fault servers."""
    from contextlib import asynccontextmanager

    from groundwire.bootstrap import build_app

    primary, secondary = servers

    @asynccontextmanager
    async def open_app(**overrides: Any) -> AsyncIterator[Groundwire]:
        llm = {"providers": [provider("primary", primary), provider("secondary", secondary)],
               "deadline_s": 12.0, **overrides.pop("llm", {})}
        overrides.setdefault("cache", {"enabled": False})
        settings = make_settings(llm=llm, **overrides)
        async with build_app(settings, embedder=real_embedder) as gw:
            await gw.ingest_path(corpus)
            await gw.warm()
            primary.reset()
            secondary.reset()
            yield gw

    return open_app
