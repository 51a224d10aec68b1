"""Connector factories: options checked without I/O; ``source`` never holds a credential;
the web connector strips boilerplate; the CLI's ``--option`` parsing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from groundwire.cli.sources import parse_options
from groundwire.errors import ConfigurationError
from groundwire.ingest.connectors import git, sql, web
from groundwire.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.mark.parametrize(("module", "options"), [
    (git, {}), (git, {"repo": "/x", "colour": "red"}), (git, {"repo": "/x", "branch": "--evil"}),
    (git, {"repo": "/x", "include": "docs"}),
    (web, {}), (web, {"url": "ftp://example.com/"}),
    (web, {"url": "https://e.com", "max_pages": 0}),
    (sql, {"url": "sqlite:///x.db"}), (sql, {"query": "SELECT 1"}),
    (sql, {"url": "sqlite:///x.db", "query": "SELECT 1", "columns": {"colour": "c"}}),
])
def test_bad_options_are_configuration_errors(module: Any, options: dict[str, Any],
                                              settings: Settings) -> None:
    with pytest.raises(ConfigurationError):
        module.from_options(options, settings)


def test_sources_hold_no_credentials(settings: Settings) -> None:
    repo = git.from_options({"repo": "https://me:tok@git.example.com/team/docs.git",
                             "branch": "main"}, settings)
    assert repo.source == ("git", "https://git.example.com/team/docs.git#main")
    assert "tok" not in repo.link
    db = sql.from_options({"url": "postgresql://app:s3cret@db.example.com/app",
                           "query": "SELECT id, body FROM t"}, settings)
    kind, location = db.source
    assert kind == "sql" and "s3cret" not in location and "db.example.com" in location
    site = web.from_options({"url": "https://example.com/docs/#top"}, settings)
    assert site.source == ("web", "https://example.com/docs/")


def test_web_extraction_drops_boilerplate() -> None:
    html = ("<html><head><title>Lanterns</title></head><body><nav><a href='/a'>Home</a>"
            "<a href='/b'>Menu</a></nav><main><article><h1>Lanterns</h1><p>"
            + "The harbour lantern guides boats through the fog every night. " * 8
            + "</p></article></main><footer>Copyright Boilerplate Corp. Cookie settings."
            "</footer></body></html>")
    title, text, links = web._extract(html, "https://example.com/x/page.html")
    assert title == "Lanterns"
    assert "harbour lantern" in text
    assert "Boilerplate" not in text and "Cookie" not in text
    assert links == ["https://example.com/a", "https://example.com/b"]


def test_cli_option_parsing() -> None:
    assert parse_options(["path=/srv/docs", "include=[\"*.md\"]", "max_bytes=10"],
                         '{"exclude": []}') == {
        "path": "/srv/docs", "include": ["*.md"], "max_bytes": 10, "exclude": []}
    with pytest.raises(typer.BadParameter):
        parse_options(["novalue"], None)
    with pytest.raises(typer.BadParameter):
        parse_options(None, "[1]")
