"""``groundwire serve``: the HTTP API and the ask page under uvicorn. ``--dev`` (keyless admin
access) binds loopback addresses only. Registered in ``cli/main.py``."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from groundwire.cli.options import ConfigOpt
from groundwire.cli.output import fail, load_cli_settings
from groundwire.errors import ConfigurationError, GroundwireError

SHUTDOWN_GRACE_S = 30


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default server.port).")] = None,
    dev: Annotated[bool, typer.Option(
        "--dev", help="Local development: requests without an API key act as an admin of the "
        "default tenant (security.dev_mode). Refused on non-loopback addresses.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Serve the HTTP API and the ask page."""
    import uvicorn
    from pydantic import ValidationError

    from groundwire.api.app import create_app
    from groundwire.observability import configure_logging

    try:
        settings = load_cli_settings(config)
        overrides: dict[str, Any] = {}
        if host:
            overrides["server"] = settings.server.model_copy(update={"host": host})
        if dev:
            overrides["security"] = settings.security.model_copy(update={"dev_mode": True})
        _check_dev_bind(settings, host, dev)
        if overrides:
            try:
                settings = type(settings).model_validate({**settings.model_dump(), **{
                    k: v.model_dump() for k, v in overrides.items()}})
            except ValidationError as exc:  # one coded line, not a pydantic traceback
                raise ConfigurationError("invalid configuration: " + "; ".join(
                    f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                    for err in exc.errors())) from exc
        api = create_app(settings)  # e.g. telemetry.otlp_endpoint without the exporter
    except GroundwireError as exc:
        fail(exc, False)
        return
    configure_logging(settings.log_level, stream=sys.stderr)
    bind_host = settings.server.host
    if settings.security.dev_mode:
        typer.echo("dev mode: requests without an API key act as an admin of tenant "
                   f"{settings.security.default_tenant!r} (loopback only)", err=True)
    bind_port = port or settings.server.port
    typer.echo(f"Groundwire is serving on http://{bind_host}:{bind_port}/", err=True)
    # SIGTERM: requests in flight get SHUTDOWN_GRACE_S to finish (a `wait=true` ingest may
    # wait on a job no worker runs), then they are cancelled and the app closes.
    uvicorn.run(api, host=bind_host, port=bind_port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S)


def _check_dev_bind(settings: Any, host: str | None, dev: bool) -> None:
    """Dev mode admits requests without a key as an admin: refused on a non-loopback bind,
    as one coded line (exit code of a configuration error)."""
    from groundwire.security.hosts import is_loopback_address

    bind = host or settings.server.host
    if (dev or settings.security.dev_mode) and not is_loopback_address(bind):
        raise ConfigurationError(
            f"dev mode lets requests without an API key in as an admin, so it binds only a "
            f"loopback address, not {bind!r}: use --host 127.0.0.1, or serve without --dev "
            "and create keys with `groundwire keys create`", code="security.dev_mode_not_loopback")
