"""``groundwire`` CLI: assembles the Typer app from the command modules of ``cli/``.

Every command builds Settings once and calls the app facade. Commands live in modules by
topic (``ingest``, ``query``, ``serve``, ``quality``, ``tuning``, ``assess``, ``monitoring``,
``config``, ``versions``, ``db``, ``keys``, ``audit``, ``worker``); they share options from
``cli/options.py`` and output, errors and exit codes from ``cli/output.py`` (2 invalid input
or configuration, 3 not found, 4 store unavailable, 5 a quality gate, 1 anything else). This
module only registers them, in the order ``--help`` lists them, and is imported by none of them.
"""

from __future__ import annotations

import typer

from groundwire.cli.assess import assess
from groundwire.cli.audit import audit_app
from groundwire.cli.config import config_app
from groundwire.cli.db import db_app
from groundwire.cli.embedder import embedder_app
from groundwire.cli.ingest import ingest, status
from groundwire.cli.keys import keys_app, users_app
from groundwire.cli.mcp import mcp
from groundwire.cli.monitoring import monitor, records_app
from groundwire.cli.quality import evalset_app, evaluate
from groundwire.cli.query import ask, search
from groundwire.cli.serve import serve
from groundwire.cli.sources import source_app, sync
from groundwire.cli.tuning import adapt, tune
from groundwire.cli.versions import versions_app
from groundwire.cli.worker import worker
from groundwire.cli.workflows import review_app

app = typer.Typer(
    name="groundwire",
    help="Groundwire: cited, verifiable answers over your documents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("ingest")(ingest)
app.command("search")(search)
app.command("ask")(ask)
app.command("status")(status)
app.command("serve")(serve)
app.command("eval")(evaluate)
app.command("tune")(tune)
app.command("assess")(assess)
app.command("monitor")(monitor)
app.command("adapt")(adapt)
app.command("worker")(worker)
app.command("sync")(sync)
app.command("mcp")(mcp)

app.add_typer(config_app, name="config")
app.add_typer(records_app, name="records")
app.add_typer(evalset_app, name="evalset")
app.add_typer(versions_app, name="versions")
app.add_typer(source_app, name="source")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(review_app, name="review")
app.add_typer(embedder_app, name="embedder")


def run() -> None:
    """Console-script entry point (``groundwire = "groundwire.cli.main:run"``)."""
    app()
