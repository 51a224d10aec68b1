"""The ``folder`` connector through the registry: same items as ``FolderConnector``, the
Connector contract (``source``), options validated, defaults from ``settings.ingest``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from groundwire import registry
from groundwire.errors import ConfigurationError
from groundwire.ingest.connectors import Connector, FolderConnector
from groundwire.settings import Settings


@pytest.fixture
def settings(clean_settings_env: None) -> Settings:
    return Settings(ingest={"max_file_mb": 1})


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for rel, text in {
        "a.md": "# A", "b.txt": "b", "docs/guide.md": "guide", "docs/deep/x.html": "<p>x</p>",
        ".hidden/secret.md": "s", ".dot.md": "d", "big.txt": "x" * 40,
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def build(options: dict[str, Any], settings: Settings) -> Any:
    return registry.connectors().get("folder")(options, settings)


def snapshot(connector: Any) -> list[tuple[str, str, int, bytes]]:
    return [(i.uri, i.media_type, i.size, i.read()) for i in connector.items()]


def test_folder_through_the_registry_yields_what_folder_connector_yields(
    tree: Path, settings: Settings
) -> None:
    direct = FolderConnector(tree, include=settings.ingest.include,
                             exclude=settings.ingest.exclude, max_bytes=1024 * 1024)
    built = build({"path": str(tree)}, settings)
    assert isinstance(built, FolderConnector)
    assert isinstance(built, Connector)
    assert snapshot(built) == snapshot(direct)
    assert [u for u, *_ in snapshot(built)] == ["a.md", "b.txt", "big.txt", "docs/deep/x.html",
                                                 "docs/guide.md"]


def test_source_is_the_absolute_folder(tree: Path, settings: Settings,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree.parent)
    assert build({"path": "tree"}, settings).source == ("folder", str(tree.resolve()))
    assert build({"path": tree / "docs"}, settings).source == (
        "folder", str((tree / "docs").resolve()))


def test_options_override_the_settings_defaults(tree: Path, settings: Settings) -> None:
    connector = build({"path": str(tree), "include": ["**/*.md"], "exclude": [],
                       "max_bytes": 10}, settings)
    uris = [i.uri for i in connector.items()]
    assert uris == [".dot.md", ".hidden/secret.md", "a.md", "docs/guide.md"]
    assert connector.max_bytes == 10
    # None and an empty include fall back to settings.ingest, as ingest_path's arguments do
    fallback = build({"path": str(tree), "include": [], "exclude": None, "max_bytes": None},
                     settings)
    assert snapshot(fallback) == snapshot(build({"path": str(tree)}, settings))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, "'path' is required"),
        ({"path": ""}, "'path' is required"),
        ({"path": "x", "includes": ["*"]}, r"unknown option\(s\) 'includes'"),
        ({"path": "x", "include": "*.md"}, "'include' must be a list"),
        ({"path": "x", "exclude": [1]}, "'exclude' must be a list"),
        ({"path": "x", "max_bytes": 0}, "'max_bytes' must be a positive integer"),
        ({"path": "x", "max_bytes": "10"}, "'max_bytes' must be a positive integer"),
    ],
)
def test_bad_options_are_configuration_errors(
    options: dict[str, Any], match: str, settings: Settings
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        build(options, settings)
