"""Fixtures of the scale-out tests: ``external_pg`` (module): a separate embedded PostgreSQL
standing in for an operator's external database (its own data dir, not the session's shared
server), stopped after the module."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.external_pg import ExternalPostgres


@pytest.fixture(scope="module")
def external_pg() -> Iterator[ExternalPostgres]:
    # A short path: Unix socket paths are limited to ~100 bytes.
    root = Path(tempfile.gettempdir()) / f"gw-ext-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    root.mkdir()
    server = ExternalPostgres(root).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
