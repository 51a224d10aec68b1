"""A real ``groundwire serve`` subprocess for integration and end-to-end tests.

Not a conftest: ``tests/integration/conftest.py`` and ``tests/e2e/conftest.py`` re-export the
``live_server`` fixture with ``from live_server import live_server``. That import works because
``tests/`` has no ``__init__.py``, so pytest (import mode ``prepend``) puts ``tests/`` on
``sys.path`` when it loads ``tests/conftest.py``.

The fixture is module-scoped (one server per test module, so the model loads once per module);
it therefore creates its own fresh database on the session's embedded PostgreSQL the same way
the function-scoped ``database_url`` fixture does, and drops it afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

STARTUP_TIMEOUT_S = 180.0  # the embedding model loads before /healthz answers
INGEST_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 30.0

# A small corpus about a fictional product; each file is about one distinct topic.
CORPUS: dict[str, str] = {
    "guides/install.md": """\
# Installing Quillmate

Quillmate is a self-hosted note synchronisation server for small teams.

## Requirements

Quillmate runs on Linux with kernel 5.10 or newer and needs at least 2 GB of RAM and 10 GB of
free disk space. The installer also supports macOS 13 Ventura and later for evaluation use.

## Installing on Linux

Download the quillmate-installer package and run the installer with root privileges and the
prefix /opt/quillmate. The installer creates a quillmate system user and registers a systemd
service named quillmate.service. After installation, open port 7443 in your firewall so that
clients can connect.

## Upgrading

To upgrade, stop the service, run the newer installer over the existing prefix, and start the
service again. Settings in /etc/quillmate/quillmate.conf are kept across upgrades.
""",
    "billing/pricing.md": """\
# Quillmate pricing

Quillmate is sold as an annual subscription per workspace.

## Plans

The Starter plan is free for up to three users and includes 5 GB of synchronised storage.
The Team plan costs 12 US dollars per user per month, billed annually, and includes 100 GB of
storage per workspace. The Enterprise plan is priced individually and adds single sign-on,
audit exports and a dedicated support engineer.

## Refunds

Annual subscriptions can be cancelled within 30 days of purchase for a full refund. After 30
days, cancellations take effect at the end of the current billing year.

## Discounts

Registered charities and schools receive a 40 percent discount on the Team plan.
""",
    "policies/security.md": """\
# Quillmate security policy

## Encryption

All notes are encrypted at rest with AES-256-GCM, and every connection between clients and
the server uses TLS 1.3. Encryption keys are rotated every 90 days.

## Reporting a vulnerability

Security researchers should report vulnerabilities to security@quillmate.example. We
acknowledge every report within two business days and publish an advisory once a fix is
released.

## Data retention

Deleted notes are kept in the trash for 14 days and are then permanently erased, including
from backups, within a further 30 days.
""",
    "support/hours.md": """\
# Quillmate support

Support is available by email on weekdays from 08:00 to 18:00 Central European Time.
Enterprise customers can also call the support hotline at any time of day. The median first
response time to support tickets in 2024 was four hours.
""",
}


@dataclass
class LiveServer:
    base_url: str
    corpus: Path  # the ingested folder (index "default")
    workdir: Path  # scratch space for further folders to ingest
    log_path: Path  # the server's stdout + stderr
    process: subprocess.Popen[bytes]
    db_url: str = ""  # the server's database (to mint API keys with ``mint_key``)

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", httpx.Timeout(120.0, connect=10.0))
        return httpx.Client(base_url=self.base_url, **kwargs)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


def write_corpus(root: Path, files: dict[str, str] = CORPUS) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def groundwire_script() -> Path:
    script = Path(sys.executable).parent / "groundwire"
    if not script.exists():
        pytest.fail(f"console script not found next to the interpreter: {script}")
    return script


def _create_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"t_live_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin_url.replace("/postgres?", f"/{name}?")


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


def _wait_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with httpx.Client(base_url=server.base_url, timeout=5.0) as client:
        while True:
            if server.process.poll() is not None:
                pytest.fail(
                    f"groundwire serve exited with {server.process.returncode} before "
                    f"/healthz answered; log:\n{server.log_tail()}"
                )
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"/healthz did not answer within {STARTUP_TIMEOUT_S:.0f} s; log:\n"
                    f"{server.log_tail()}"
                )
            time.sleep(0.5)


def ingest(
    server: LiveServer, path: Path, *, index: str = "default", wait: bool = True
) -> httpx.Response:
    with server.client(timeout=httpx.Timeout(INGEST_TIMEOUT_S, connect=10.0)) as client:
        return client.post("/v1/ingest", json={"path": str(path), "index": index, "wait": wait})


def spawn_serve(workdir: Path, env: dict[str, str], *, corpus: Path | None = None,
                db_url: str = "") -> LiveServer:
    """Start ``groundwire serve`` on a free loopback port with ``env`` as its whole
    environment, cwd ``workdir`` (so no ./groundwire.toml of the developer's checkout is
    picked up), stdout + stderr in ``workdir/server.log``. Does not wait for it."""
    port = free_port()
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(groundwire_script()), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT,
        )
    return LiveServer(f"http://127.0.0.1:{port}", corpus or workdir / "corpus", workdir,
                      log_path, process, db_url)


@contextmanager
def running_server(
    pg_admin_url: str, workdir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """``groundwire serve`` on a fresh database with ``CORPUS`` ingested into ``default``;
    ``extra_env`` adds settings (e.g. ``GROUNDWIRE_LLM__PROVIDERS``)."""
    corpus = write_corpus(workdir / "corpus")
    db_name, db_url = _create_database(pg_admin_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    env.update(
        GROUNDWIRE_DATABASE_URL=db_url,
        GROUNDWIRE_DATA_DIR=str(workdir / "data"),
        # Most tests exercise features, not keys: dev mode (loopback only) lets requests
        # without a key act as the default tenant's admin. Security tests turn it off.
        GROUNDWIRE_SECURITY__DEV_MODE="true",
        PYTHONUNBUFFERED="1",
        **(extra_env or {}),
    )
    try:
        server = spawn_serve(workdir, env, corpus=corpus, db_url=db_url)
        process = server.process
        try:
            _wait_healthy(server)
            response = ingest(server, corpus)
            if response.status_code != 200 or response.json().get("state") != "succeeded":
                pytest.fail(
                    f"ingest of the test corpus failed: {response.status_code} {response.text}"
                    f"\nlog:\n{server.log_tail()}"
                )
            yield server
        finally:
            _stop(process)
    finally:
        _drop_database(pg_admin_url, db_name)


@pytest.fixture(scope="module")
def live_server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A running ``groundwire serve`` with ``CORPUS`` ingested into index ``default``."""
    with running_server(pg_admin_url, tmp_path_factory.mktemp("live")) as server:
        yield server


def mint_key(server: LiveServer, tenant: str, user: str, scopes: tuple[str, ...]) -> str:
    """A real API key for ``tenant/user`` on ``server``'s database (as `keys create` does)."""
    import asyncio

    from groundwire.security.keys import create_key
    from groundwire.stores.postgres.store import PostgresStore

    async def main() -> str:
        store = PostgresStore(server.db_url, pool_min=0, pool_max=1)
        await store.open()
        try:
            return (await create_key(store, tenant=tenant, user=user, scopes=scopes)).token
        finally:
            await store.close()

    return asyncio.run(main())
