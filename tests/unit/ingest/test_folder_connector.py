"""FolderConnector: deterministic walk, glob selection, symlink containment, lazy reads."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from groundwire.errors import InvalidRequest, ReadError
from groundwire.ingest.connectors import FolderConnector, glob_match


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**/*.md", "a.md", True),
        ("**/*.md", "x/y/a.md", True),
        ("**/*.md", "a.mdx", False),
        ("*.md", "a.md", True),
        ("*.md", "x/a.md", False),
        ("./*.md", "a.md", True),
        ("docs/**", "docs/a/b.txt", True),
        ("docs/**", "docsx/a.txt", False),
        ("a/**/b.md", "a/b.md", True),
        ("a/**/b.md", "a/x/y/b.md", True),
        ("a/*/b.md", "a/x/y/b.md", False),
        ("a/**/**/b.md", "a/b.md", True),
        ("**", "any/depth/file", True),
        ("**/node_modules/**", "node_modules/pkg/index.js", True),
        ("**/node_modules/**", "src/node_modules/x.js", True),
        ("**/node_modules/**", "src/node_modules_old/x.js", False),
        ("*.md", "A.MD", False),
        ("report-[0-9].txt", "report-7.txt", True),
        ("report-?.txt", "report-10.txt", False),
        ("**/.*", "x/.env", True),
    ],
)
def test_glob_match(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


def write(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    for rel in (
        "b.md",
        "a.txt",
        "image.png",
        "docs/guide.md",
        "docs/deep/er/notes.md",
        "docs/Z.md",
        "drafts/wip.md",
        "node_modules/pkg/readme.md",
    ):
        write(root / rel, rel.encode())
    return root


def uris(connector: FolderConnector) -> list[str]:
    return [item.uri for item in connector.items()]


def test_walk_is_sorted_recursive_and_filtered(tree: Path) -> None:
    connector = FolderConnector(
        tree, include=["**/*.md", "**/*.txt"], exclude=["drafts/**", "**/node_modules/**"],
        max_bytes=1000,
    )  # fmt: skip
    expected = ["a.txt", "b.md", "docs/Z.md", "docs/deep/er/notes.md", "docs/guide.md"]
    assert uris(connector) == expected
    assert uris(connector) == expected  # deterministic across runs


def test_empty_include_selects_every_file(tree: Path) -> None:
    connector = FolderConnector(tree, include=[], exclude=["docs/**"], max_bytes=1000)
    assert uris(connector) == [
        "a.txt",
        "b.md",
        "drafts/wip.md",
        "image.png",
        "node_modules/pkg/readme.md",
    ]


def test_root_level_only_pattern(tree: Path) -> None:
    assert uris(FolderConnector(tree, include=["*.md"], exclude=[], max_bytes=1000)) == ["b.md"]


def test_item_fields(tree: Path) -> None:
    stamp = datetime(2023, 3, 4, 5, 6, 7, tzinfo=UTC).timestamp()
    os.utime(tree / "docs" / "guide.md", (stamp, stamp))
    connector = FolderConnector(tree, include=["docs/guide.md"], exclude=[], max_bytes=1000)
    [item] = connector.items()
    assert item.uri == "docs/guide.md"
    assert item.media_type == "text/markdown"
    assert item.size == len(b"docs/guide.md")
    assert item.modified_at == datetime(2023, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert item.modified_at.tzinfo is UTC
    assert item.read() == b"docs/guide.md"
    assert item.text is None


def test_too_large_is_raised_on_read_not_on_listing(tmp_path: Path) -> None:
    write(tmp_path / "small.txt", b"0123456789")
    write(tmp_path / "big.txt", b"0123456789A")
    items = {i.uri: i for i in FolderConnector(tmp_path, ["**"], [], max_bytes=10).items()}
    assert items["small.txt"].read() == b"0123456789"
    with pytest.raises(ReadError) as info:
        items["big.txt"].read()
    assert info.value.code == "read.too_large"


def test_file_that_grew_after_listing_is_too_large(tmp_path: Path) -> None:
    path = write(tmp_path / "grow.txt", b"12345")
    [item] = FolderConnector(tmp_path, ["**"], [], max_bytes=8).items()
    path.write_bytes(b"123456789")
    with pytest.raises(ReadError) as info:
        item.read()
    assert info.value.code == "read.too_large"


def test_vanished_file_is_an_io_error(tmp_path: Path) -> None:
    path = write(tmp_path / "gone.txt")
    [item] = FolderConnector(tmp_path, ["**"], [], max_bytes=100).items()
    path.unlink()
    with pytest.raises(ReadError) as info:
        item.read()
    assert info.value.code == "read.io_error"
    assert "gone.txt" in str(info.value)


def test_single_file_root(tree: Path) -> None:
    connector = FolderConnector(tree / "docs" / "guide.md", ["*.txt"], [], max_bytes=100)
    [item] = connector.items()
    assert item.uri == "guide.md"
    assert item.read() == b"docs/guide.md"


def test_missing_root_is_invalid_request_at_call_time(tmp_path: Path) -> None:
    connector = FolderConnector(tmp_path / "nope", ["**"], [], max_bytes=100)
    with pytest.raises(InvalidRequest) as info:
        connector.items()
    assert "nope" in str(info.value)


def test_non_positive_max_bytes_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest):
        FolderConnector(tmp_path, ["**"], [], max_bytes=0)


def test_symlinks_leaving_root_are_skipped_inside_ones_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "secret.md", b"secret")
    root = tmp_path / "root"
    write(root / "real" / "doc.md", b"doc")
    (root / "link-out.md").symlink_to(outside)
    (root / "dir-out").symlink_to(outside.parent, target_is_directory=True)
    (root / "link-in.md").symlink_to(root / "real" / "doc.md")
    (root / "real" / "loop").symlink_to(root, target_is_directory=True)
    (root / "broken.md").symlink_to(root / "missing.md")
    items = list(FolderConnector(root, ["**/*.md"], [], max_bytes=100).items())
    assert [i.uri for i in items] == ["link-in.md", "real/doc.md"]
    assert items[0].read() == b"doc"
