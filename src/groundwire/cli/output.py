"""What every command shares about results and failures: settings, running, output, exit codes.

Exit codes (the CLI's contract, the same for every command):

* 0 success;
* 1 any other :class:`~groundwire.errors.GroundwireError`;
* 2 invalid input or configuration (:class:`InvalidRequest`, :class:`ConfigurationError`;
  Typer's own usage errors exit 2 as well);
* 3 not found (:class:`NotFound`);
* 4 store unavailable (:class:`StoreUnavailable`; also ``db migrate --dry-run`` that would fail);
* 5 a quality gate said no: a missed success-contract target (``eval --contract``,
  ``versions promote``) or ``assess --fail-on``.

Errors go through :func:`fail`: with ``--json`` as ``{"error": {"code", "message"}}`` on stdout,
otherwise as one ``error [code]: message`` line on stderr. Results go through :func:`emit` (one
JSON document on stdout); progress and logs go to stderr. Sub-command modules import these
helpers from here, never from ``cli/main.py``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer

from groundwire.errors import (
    ConfigurationError,
    GroundwireError,
    InvalidRequest,
    NotFound,
    StoreUnavailable,
)

T = TypeVar("T")

EXIT_CODES: list[tuple[type[GroundwireError], int]] = [
    (InvalidRequest, 2),
    (ConfigurationError, 2),
    (NotFound, 3),
    (StoreUnavailable, 4),
]
"""Error class -> exit code, first match wins; any other GroundwireError exits 1."""

CONTRACT_MISS_EXIT = 5
"""``eval --contract`` / ``versions promote``: a success-contract target is missed."""

FAIL_ON_EXIT = 5
"""``assess --fail-on``: the verdict is at or below the gate."""


def load_cli_settings(config: Path | None) -> Any:
    """The effective Settings for ``--config`` (None: ./groundwire.toml and GROUNDWIRE_* env).

    Raises :class:`ConfigurationError` for an invalid file or setting; callers turn it into
    exit 2 with :func:`fail` (or let :func:`run_with_app` do it)."""
    from groundwire.settings import load_settings

    return load_settings(config)


def fail(exc: GroundwireError, as_json: bool) -> NoReturn:
    """Report ``exc`` and exit with its code from :data:`EXIT_CODES` (1 when none matches).

    ``as_json``: print ``{"error": {"code": exc.code, "message": exc.message}}`` on stdout;
    otherwise ``error [code]: message`` in red on stderr. Always raises ``typer.Exit``."""
    code = next((c for kind, c in EXIT_CODES if isinstance(exc, kind)), 1)
    if as_json:
        typer.echo(json.dumps({"error": {"code": exc.code, "message": exc.message}}))
    else:
        typer.secho(f"error [{exc.code}]: {exc.message}", fg="red", err=True)
    raise typer.Exit(code)


def emit(data: Any) -> None:
    """Print ``data`` as one JSON document on stdout (non-ASCII kept, unknown types as str)."""
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


def run_with_app(config: Path | None, as_json: bool, work: Callable[[Any], Awaitable[T]]) -> T:
    """Build settings and the app, run ``work(app)`` inside ``async with app``, return its result.

    Logs go to stderr at WARNING unless ``log_level`` is set explicitly. A
    :class:`GroundwireError` raised while loading settings, opening the app or in ``work``
    ends the command through :func:`fail` (its exit code, JSON error when ``as_json``)."""
    from groundwire.bootstrap import build_app
    from groundwire.observability import configure_logging

    try:
        settings = load_cli_settings(config)
        # Commands print their result; logs stay quiet unless a level is configured.
        level = settings.log_level if "log_level" in settings.model_fields_set else "WARNING"
        configure_logging(level, stream=sys.stderr)

        async def main() -> T:
            async with build_app(settings) as gw:
                return await work(gw)

        return asyncio.run(main())
    except GroundwireError as exc:
        fail(exc, as_json)
