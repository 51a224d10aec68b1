"""``groundwire config``: the effective configuration (secrets masked) and the configuration
reference. Registered in ``cli/main.py``."""

from __future__ import annotations

import json

import typer

from groundwire.cli.options import ConfigOpt
from groundwire.cli.output import fail, load_cli_settings
from groundwire.errors import GroundwireError

config_app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True)


@config_app.command("show")
def config_show(config: ConfigOpt = None) -> None:
    """Print the effective configuration (secrets masked) as JSON."""
    from groundwire.settings import masked

    try:
        settings = load_cli_settings(config)
    except GroundwireError as exc:
        fail(exc, False)
        return
    typer.echo(json.dumps(masked(settings), indent=2))


@config_app.command("docs")
def config_docs() -> None:
    """Print the configuration reference (Markdown) generated from the settings model."""
    from groundwire.settings import reference_markdown

    typer.echo(reference_markdown(), nl=False)
