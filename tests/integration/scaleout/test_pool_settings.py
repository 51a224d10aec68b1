"""``database.prepare_threshold`` and ``database.application_name`` reach the pooled
connections: with ``off`` (pgbouncer transaction pooling) no server-side prepared statement is
ever made; by default psycopg prepares a statement run often on one connection."""

from __future__ import annotations

import pytest

from groundwire.bootstrap import build_store
from groundwire.settings import Settings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("threshold", "prepared"), [("off", False), ("2", True)])
async def test_prepare_threshold_and_application_name(
    database_url: str, tmp_path: object, threshold: str, prepared: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GROUNDWIRE_DATABASE__PREPARE_THRESHOLD", threshold)
    settings = Settings(database_url=database_url, data_dir=tmp_path,
                        database={"pool_min": 1, "pool_max": 1, "application_name": "gw-pool"})
    store = build_store(settings)
    await store.open()
    try:
        for _ in range(5):
            await store.list_indexes()
        async with store._connection() as conn:  # type: ignore[attr-defined]
            row = await (await conn.execute(
                "SELECT count(*) > 0, current_setting('application_name')"
                " FROM pg_prepared_statements")).fetchone()
        assert row == (prepared, "gw-pool")
    finally:
        await store.close()
