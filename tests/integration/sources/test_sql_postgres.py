"""The sql connector on a second kind of database: a PostgreSQL table (the embedded server)
read through SQLAlchemy with psycopg, timestamps as ``timestamptz``; the URL given as an
``env:`` reference, so no credential is stored and none shows in ``source``."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

pytestmark = pytest.mark.integration


async def test_sql_source_on_postgresql(database_url: str, make_settings: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from groundwire.bootstrap import build_app
    from groundwire.sources.service import SourceService

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kb (id int PRIMARY KEY, title text, body text,"
                     " updated_at timestamptz NOT NULL DEFAULT now())")
        for i, topic in enumerate(["lantern harbour fog", "quarry meadow willow",
                                   "orchard pepper falcon"]):
            conn.execute("INSERT INTO kb (id, title, body) VALUES (%s, %s, %s)",
                         [i, topic.title(), f"This article is about the {topic}. " * 6])
    monkeypatch.setenv("GW_TEST_KB_URL", database_url.replace("postgresql://",
                                                              "postgresql+psycopg://", 1))
    settings = make_settings(embedding={"provider": "fake", "model": "fake-32"},
                             autotune={"enabled": False})
    async with build_app(settings) as gw:
        sources = SourceService(gw)
        await sources.add("kb", "sql", {"url": "env:GW_TEST_KB_URL",
                                        "query": "SELECT id, title, body, updated_at FROM kb"},
                          index="kb")
        first = await sources.sync("kb")
        assert first["documents"]["indexed"] == 3
        assert (await sources.sync("kb"))["chunks_embedded"] == 0
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("UPDATE kb SET body = 'The zebracorn article, rewritten. ' || body,"
                         " updated_at = now() WHERE id = 1")
            conn.execute("DELETE FROM kb WHERE id = 2")
        third = await sources.sync("kb")
        assert third["documents"]["indexed"] == 1 and third["documents"]["deleted"] == 1
        assert third["changes"]["complete"] is False
        view = await sources.get("kb")
        assert view["documents"] == {"indexed": 2}
        assert view["options"]["url"] == "env:GW_TEST_KB_URL"
        row = await gw.store.get_source(view["tenant"], "kb")
        assert "env:GW_TEST_KB_URL" in str(row["options"])
        assert database_url not in str(row)  # never stored resolved
