"""A local folder (or a single file) as a source of items.

Files are found by a recursive walk in sorted order, so two runs over the same tree yield the
same items in the same order.

Permissions: a sidecar ``<file>.permissions.json`` applies to that file; a
``.permissions.json`` in a folder applies to every file under it without a nearer one. Both
hold ``{"users": [...], "groups": [...], "everyone": false}`` or a list of entries (see
``domain.access.parse_permissions``); sidecars are never ingested as documents. An unreadable
or invalid sidecar fails the files it governs (``permissions.invalid``) — it never widens
access. ``include``/``exclude`` are globs matched against each file's
path relative to the root, in POSIX form (see ``glob_match``). Symbolic links are followed
only while their target stays inside the root; each directory is walked once.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundwire.domain import Permissions, SourceItem, parse_permissions
from groundwire.errors import ConfigurationError, InvalidRequest, ReadError
from groundwire.ingest.parsers.media_types import media_type_for

if TYPE_CHECKING:
    from groundwire.settings import Settings

logger = logging.getLogger(__name__)

_Pattern = tuple[str, ...]


def _compile(pattern: str) -> _Pattern:
    """Pattern segments: leading ``./`` and ``/`` dropped, empty and repeated ``**`` merged."""
    segments: list[str] = []
    for segment in pattern.strip().split("/"):
        if segment in ("", "."):
            continue
        if segment == "**" and segments and segments[-1] == "**":
            continue
        segments.append(segment)
    return tuple(segments)


def _match(pattern: _Pattern, parts: Sequence[str]) -> bool:
    # positions in ``parts`` reachable after consuming each pattern segment
    states = {0}
    for segment in pattern:
        if segment == "**":
            states = set(range(min(states), len(parts) + 1))
        else:
            states = {j + 1 for j in states if j < len(parts) and fnmatchcase(parts[j], segment)}
        if not states:
            return False
    return len(parts) in states


def glob_match(pattern: str, path: str) -> bool:
    """Whether the relative POSIX ``path`` matches ``pattern``, segment by segment.

    ``*``, ``?`` and ``[...]`` match within one path segment (never across ``/``); a ``**``
    segment matches any number of segments, zero included, so ``**/*.md`` matches ``a.md``
    and ``x/y/a.md``, and ``docs/**`` matches everything under ``docs``. A pattern without
    ``/`` matches only at the top level (``*.md`` does not match ``x/a.md``). Case-sensitive.
    """
    return _match(_compile(pattern), [p for p in path.split("/") if p])


@dataclass(frozen=True, slots=True)
class _FileReader:
    """``SourceItem.read`` for one file: enforces the size limit, maps OS errors."""

    path: Path
    uri: str
    size: int
    max_bytes: int

    def _too_large(self, size: str) -> ReadError:
        return ReadError(
            f"{self.uri}: {size} bytes exceeds the limit of {self.max_bytes} bytes",
            code="read.too_large",
        )

    def __call__(self) -> bytes:
        if self.size > self.max_bytes:
            raise self._too_large(str(self.size))
        try:
            with self.path.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError as exc:
            raise ReadError(
                f"{self.uri}: cannot read: {exc.strerror or exc}", code="read.io_error"
            ) from exc
        if len(data) > self.max_bytes:  # the file grew since it was listed
            raise self._too_large("more than " + str(self.max_bytes))
        return data


class FolderConnector:
    """Items for the files under ``root`` selected by ``include`` (all files when empty) and
    not matched by ``exclude``; each item's ``uri`` is its path relative to ``root``
    (POSIX). ``root`` may also be a single file, yielded as-is (``uri`` = its name, patterns
    not applied). Reading a file larger than ``max_bytes`` raises ``read.too_large``.
    """

    def __init__(self, root: Path, include: list[str], exclude: list[str], max_bytes: int) -> None:
        if max_bytes <= 0:
            raise InvalidRequest(f"max_bytes must be positive, got {max_bytes}")
        self.root = Path(root)
        self.include = tuple(_compile(p) for p in include)
        self.exclude = tuple(_compile(p) for p in exclude)
        self.max_bytes = max_bytes

    @property
    def source(self) -> tuple[str, str]:
        """``("folder", root)``: the pipeline's source identity (deletion propagation)."""
        return ("folder", str(self.root))

    def items(self) -> Iterator[SourceItem]:
        """The selected files, in sorted path order (directories walked depth-first).

        Raises ``InvalidRequest`` at once when the root does not exist or is neither a file
        nor a directory; unreadable subdirectories are skipped (and logged)."""
        root = self.root.expanduser()
        try:
            resolved = root.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise InvalidRequest(f"folder not found: {self.root} ({exc})") from exc
        if resolved.is_file():
            item = self._item(resolved, root.name, _NO_PERMISSIONS)
            return iter([] if item is None else [item])
        if not resolved.is_dir():
            raise InvalidRequest(f"not a file or folder: {self.root}")
        return self._walk(resolved, resolved, (), {resolved}, _NO_PERMISSIONS)

    def _selected(self, parts: Sequence[str]) -> bool:
        if self.include and not any(_match(p, parts) for p in self.include):
            return False
        return not any(_match(p, parts) for p in self.exclude)

    def _pruned(self, parts: Sequence[str]) -> bool:
        """A directory every file of which is excluded by a ``.../**`` pattern."""
        return any(p and p[-1] == "**" and _match(p[:-1], parts) for p in self.exclude)

    def _walk(
        self, root: Path, directory: Path, prefix: tuple[str, ...], visited: set[Path],
        inherited: _Acl,
    ) -> Iterator[SourceItem]:
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            logger.warning("skipping unreadable folder %s: %s", directory, exc)
            return
        names = {e.name for e in entries}
        if FOLDER_SIDECAR in names:
            inherited = _read_sidecar(directory / FOLDER_SIDECAR)
        for entry in entries:
            if entry.name == FOLDER_SIDECAR or entry.name.endswith(SIDECAR_SUFFIX):
                continue
            parts = (*prefix, entry.name)
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    target = path.resolve(strict=True)
                    if not target.is_relative_to(root):
                        continue  # a link leaving the root
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
            except (OSError, RuntimeError):  # a broken link or a link loop
                continue
            if is_dir:
                real = path.resolve()
                if real in visited or self._pruned(parts):
                    continue
                visited.add(real)
                yield from self._walk(root, path, parts, visited, inherited)
            elif is_file and self._selected(parts):
                own = entry.name + SIDECAR_SUFFIX
                acl = _read_sidecar(directory / own) if own in names else inherited
                item = self._item(path, "/".join(parts), acl)
                if item is not None:
                    yield item

    def _item(self, path: Path, uri: str, acl: _Acl) -> SourceItem | None:
        try:
            stat = path.stat()
        except OSError as exc:  # vanished since it was listed
            logger.warning("skipping %s: %s", uri, exc)
            return None
        return SourceItem(
            uri=uri,
            media_type=media_type_for(uri),
            read=_FileReader(path=path, uri=uri, size=stat.st_size, max_bytes=self.max_bytes),
            modified_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
            size=stat.st_size,
            permissions=acl[0],
            permissions_error=acl[1],
        )


FOLDER_SIDECAR = ".permissions.json"
SIDECAR_SUFFIX = ".permissions.json"
_Acl = tuple[Permissions | None, str | None]  # (permissions, error reading them)
_NO_PERMISSIONS: _Acl = (None, None)


def _read_sidecar(path: Path) -> _Acl:
    try:
        return parse_permissions(json.loads(path.read_text(encoding="utf-8"))), None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        return None, f"{path.name}: {exc}"



FOLDER_OPTIONS = frozenset({"path", "include", "exclude", "max_bytes"})


def from_options(options: Mapping[str, Any], settings: Settings) -> FolderConnector:
    """The ``folder`` connector factory (entry point ``groundwire.connectors: folder``).

    ``options``: ``path`` (required; a folder or one file, ``~`` expanded, made absolute, so
    ``source`` is ``("folder", <absolute path>)``); ``include`` (glob list; absent, None or
    empty: ``settings.ingest.include``); ``exclude`` (glob list; absent or None:
    ``settings.ingest.exclude``, ``[]``: exclude nothing); ``max_bytes`` (positive int;
    absent or None: ``settings.ingest.max_file_mb``). Any other key, a missing ``path`` or
    an ill-typed value raises ``ConfigurationError``. Does no I/O beyond resolving the path.
    """
    unknown = sorted(set(options) - FOLDER_OPTIONS)
    if unknown:
        raise ConfigurationError(
            f"folder connector: unknown option(s) {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(sorted(FOLDER_OPTIONS))})"
        )
    path = options.get("path")
    if not isinstance(path, str | os.PathLike) or not str(path):
        raise ConfigurationError(f"folder connector: option 'path' is required, got {path!r}")
    cfg = settings.ingest
    include = _globs(options, "include") or list(cfg.include)
    exclude = _globs(options, "exclude")
    max_bytes = options.get("max_bytes")
    if max_bytes is None:
        max_bytes = int(cfg.max_file_mb * 1024 * 1024)
    elif isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ConfigurationError(
            f"folder connector: option 'max_bytes' must be a positive integer, got {max_bytes!r}"
        )
    return FolderConnector(
        Path(path).expanduser().resolve(),
        include=include,
        exclude=list(cfg.exclude) if exclude is None else exclude,
        max_bytes=max_bytes,
    )


def _globs(options: Mapping[str, Any], key: str) -> list[str] | None:
    value = options.get(key)
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(
            f"folder connector: option {key!r} must be a list of glob strings, got {value!r}"
        )
    return list(value)
