"""A secured ``groundwire serve`` (keys required, dev mode off, fake embedder for a fast
start) on loopback, with two principals of one tenant and a document only one may read:

* ``alice`` and ``bob`` (tenant ``default``, scopes search + ask); ``secret/falcon.md`` is
  readable by alice only, ``public/hours.md`` by everyone of the tenant;
* ``dave`` (tenant ``default``, scope search only); ``erin`` (search + ask, one ask a
  minute);
* ``carol`` (tenant ``globex``) holds index ``globex-kb``, which the others must not see.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from live_server import (
    LiveServer,
    _create_database,
    _drop_database,
    _stop,
    _wait_healthy,
    mint_key,
    spawn_serve,
)

PUBLIC = {"uri": "public/hours.md", "title": "Support hours",
          "text": "Support hours: the help desk answers on weekdays from 08:00 to 18:00.",
          "permissions": {"everyone": True}}
SECRET = {"uri": "secret/falcon.md", "title": "Project Falcon",
          "text": "Project Falcon is the codename of the planned merger with Initech; the "
                  "merger closes in March.",
          "permissions": {"users": ["alice"]}}
GLOBEX = {"uri": "globex/plan.md", "title": "Globex plan",
          "text": "The Globex hammock factory opens in Cypress Creek next spring.",
          "permissions": {"everyone": True}}


@dataclass
class Secured:
    server: LiveServer
    keys: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # the server's environment

    @property
    def url(self) -> str:
        return self.server.base_url

    def push(self, key: str, doc: dict[str, object], index: str = "default") -> None:
        with self.server.client(headers={"Authorization": f"Bearer {key}"}) as http:
            response = http.post("/v1/documents", json={"index": index, "documents": [doc]})
            assert response.status_code == 200, response.text


def server_env(db_url: str, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    env.update(GROUNDWIRE_DATABASE_URL=db_url, GROUNDWIRE_DATA_DIR=str(workdir / "data"),
               GROUNDWIRE_EMBEDDING__PROVIDER="fake", GROUNDWIRE_SECURITY__DEV_MODE="false",
               # erin may ask once a minute: the tools take the key's rate limit like REST
               GROUNDWIRE_SECURITY__RATE_LIMIT__PRINCIPALS=json.dumps(
                   {"default/erin": {"ask": {"requests_per_minute": 1}}}),
               PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(scope="module")
def secured(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    workdir = tmp_path_factory.mktemp("secured")
    db_name, db_url = _create_database(pg_admin_url)
    env = server_env(db_url, workdir)
    try:
        server = spawn_serve(workdir, env, db_url=db_url)
        try:
            _wait_healthy(server)
            s = Secured(server, env=env)
            s.keys["admin"] = mint_key(server, "default", "root", ("admin",))
            s.keys["alice"] = mint_key(server, "default", "alice", ("search", "ask"))
            s.keys["bob"] = mint_key(server, "default", "bob", ("search", "ask"))
            s.keys["dave"] = mint_key(server, "default", "dave", ("search",))
            s.keys["erin"] = mint_key(server, "default", "erin", ("search", "ask"))
            s.keys["carol"] = mint_key(server, "globex", "carol", ("search", "ask", "ingest"))
            s.push(s.keys["admin"], PUBLIC)
            s.push(s.keys["admin"], SECRET)
            s.push(s.keys["carol"], GLOBEX, index="globex-kb")
            yield s
        finally:
            _stop(server.process)
    finally:
        _drop_database(pg_admin_url, db_name)
