"""The shape of the ``cli`` package: small modules, shared helpers in options/output, no cycle.

``cli/main.py`` only assembles the Typer app; command modules import ``cli/options.py`` and
``cli/output.py`` (and non-CLI packages), never ``cli/main.py`` nor one another. Also the
contracts of the shared helpers: exit codes of ``fail``, the JSON of ``emit``, option parsing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer

import groundwire.cli
from groundwire.errors import (
    ConfigurationError,
    GroundwireError,
    InvalidRequest,
    NotFound,
    StoreUnavailable,
)

CLI_DIR = Path(groundwire.cli.__file__).parent
SHARED = {"groundwire.cli.options", "groundwire.cli.output"}
MAX_LINES = 400


def test_every_cli_module_is_at_most_400_lines() -> None:
    long = {p.name: n for p in CLI_DIR.glob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_command_modules_import_only_the_shared_cli_modules() -> None:
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("groundwire")
    modules = sorted(graph.find_descendants("groundwire.cli"))
    edges = {
        (a, b) for a in modules for b in modules
        if a != b and graph.direct_import_exists(importer=a, imported=b)
    }
    # main imports the command modules; nothing imports main.
    assert {a for a, b in edges if b == "groundwire.cli.main"} == set()
    # A command module imports only options/output; those import no CLI module.
    assert {(a, b) for a, b in edges if a != "groundwire.cli.main" and b not in SHARED} == set()
    assert {(a, b) for a, b in edges if a in SHARED} == set()


def test_main_registers_every_command_in_the_documented_order() -> None:
    from groundwire.cli.main import app

    commands = [c.name for c in app.registered_commands]
    groups = [g.name for g in app.registered_groups]
    assert commands == ["ingest", "search", "ask", "status", "serve", "eval", "tune", "assess",
                        "monitor", "adapt", "worker", "sync", "mcp"]
    assert groups == ["config", "records", "evalset", "versions", "source", "db", "keys", "users",
                      "audit", "review", "embedder"]


@pytest.mark.parametrize(("exc", "code"), [
    (InvalidRequest("bad"), 2), (ConfigurationError("bad"), 2), (NotFound("gone"), 3),
    (StoreUnavailable("down"), 4), (GroundwireError("other"), 1),
])
def test_fail_exits_with_the_code_of_the_error_and_prints_json(
    exc: GroundwireError, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    from groundwire.cli.output import fail

    with pytest.raises(typer.Exit) as raised:
        fail(exc, True)
    assert raised.value.exit_code == code
    assert json.loads(capsys.readouterr().out) == {
        "error": {"code": exc.code, "message": exc.message}}


def test_fail_without_json_writes_one_coded_line_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from groundwire.cli.output import fail

    with pytest.raises(typer.Exit):
        fail(NotFound("no index x"), False)
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == "error [not_found]: no index x\n"


def test_emit_prints_one_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    from groundwire.cli.output import emit

    emit({"name": "é", "path": Path("a/b")})
    assert capsys.readouterr().out == '{"name": "é", "path": "a/b"}\n'


def test_search_filters_and_parse_when() -> None:
    from groundwire.cli.options import parse_when, search_filters

    assert search_filters(None, None) == {}
    assert search_filters("docs/", ["lang=en", "team=a=b"]) == {
        "uri_prefix": "docs/", "metadata": {"lang": "en", "team": "a=b"}}
    with pytest.raises(typer.BadParameter):
        search_filters(None, ["=x"])
    assert parse_when(None) is None
    assert parse_when("2024-05-01T10:00:00") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert (datetime.now(UTC) - parse_when("2h")).total_seconds() == pytest.approx(7200, abs=60)
    with pytest.raises(InvalidRequest):
        parse_when("yesterday")
