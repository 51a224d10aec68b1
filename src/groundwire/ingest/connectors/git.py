"""A git repository at a branch as a source of items, through the ``git`` CLI (no library).

The repository (a URL or a local path) is fetched into a bare cache under
``<data_dir>/sources/git/<hash>`` (or ``cache_dir``); items are the files of the branch's
tip commit, read with ``git cat-file`` (never a checkout). Each item's ``uri`` is its path in
the repository (stable across commits: the document's identity); its metadata holds the
``commit`` and ``url``, a link to the file at that commit (``link`` template, default
``<repo>/blob/<commit>/<path>`` for http(s) repositories, ``<repo>@<commit>:<path>`` else).

Incremental (``IncrementalConnector``): the cursor is the last commit; ``changes`` fetches
and, when that commit is still in the cache, diffs it against the new tip (``git diff
--name-status``): added/modified files are the changed items, removed ones the deleted uris.
Without a usable cursor it lists the whole tree (``complete``). A fetch that fails (the remote
is unreachable, the branch is gone) raises ``InvalidRequest`` ``git.fetch_failed``: nothing
is deleted. Git's credential prompts are off (``GIT_TERMINAL_PROMPT=0``); a token goes in
the URL through an ``env:`` reference and is stripped from ``source`` and every link.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from groundwire.domain import SourceItem
from groundwire.errors import ConfigurationError, InvalidRequest, ReadError
from groundwire.ingest.connectors.changes import ChangeSet
from groundwire.ingest.connectors.folder import glob_match
from groundwire.ingest.parsers.media_types import media_type_for

if TYPE_CHECKING:
    from groundwire.settings import Settings

GIT_OPTIONS = frozenset({"repo", "branch", "include", "exclude", "max_bytes", "cache_dir",
                         "link", "timeout_s"})


def _public(repo: str) -> str:
    """``repo`` without credentials (user:password@ dropped)."""
    if "://" not in repo:
        return repo
    parts = urlsplit(repo)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True, slots=True)
class _BlobReader:
    git: GitConnector
    sha: str
    uri: str
    size: int

    def __call__(self) -> bytes:
        if self.size > self.git.max_bytes:
            raise ReadError(f"{self.uri}: {self.size} bytes exceeds the limit of "
                            f"{self.git.max_bytes} bytes", code="read.too_large")
        try:
            return self.git.run("cat-file", "blob", self.sha, binary=True)
        except InvalidRequest as exc:
            raise ReadError(f"{self.uri}: {exc}", code="read.io_error") from exc


class GitConnector:
    """Items of ``branch`` of ``repo`` (see the module docstring)."""

    def __init__(self, repo: str, branch: str, cache: Path, *, include: list[str],
                 exclude: list[str], max_bytes: int, link: str | None,
                 timeout_s: float = 120.0) -> None:
        self.repo, self.branch, self.cache = repo, branch, cache
        self.include, self.exclude = include, exclude
        self.max_bytes, self.timeout_s = max_bytes, timeout_s
        public = _public(repo).rstrip("/")
        if link is None:
            link = (public.removesuffix(".git") + "/blob/{commit}/{path}"
                    if public.startswith(("http://", "https://")) else public
                    + "@{commit}:{path}")
        self.link = link

    @property
    def source(self) -> tuple[str, str]:
        return ("git", f"{_public(self.repo)}#{self.branch}")

    # ---------------------------------------------------------------- git
    def run(self, *args: str, binary: bool = False) -> Any:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true",
               "LC_ALL": "C"}
        try:
            done = subprocess.run(["git", "--git-dir", str(self.cache), *args],
                                  capture_output=True, timeout=self.timeout_s, env=env,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InvalidRequest(f"git {args[0]} failed: {exc}", code="git.failed") from exc
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip().replace(self.repo,
                                                                          _public(self.repo))
            raise InvalidRequest(f"git {args[0]} failed: {err[-500:]}", code="git.failed")
        return done.stdout if binary else done.stdout.decode("utf-8", "surrogateescape")

    def fetch(self) -> str:
        """Fetch the branch into the cache; its tip commit."""
        if not (self.cache / "HEAD").exists():
            self.cache.mkdir(parents=True, exist_ok=True)
            self.run("init", "--bare", "--quiet")
        ref = f"refs/groundwire/{self.branch}"
        try:
            self.run("fetch", "--quiet", "--no-tags", "--force", self.repo,
                     f"+refs/heads/{self.branch}:{ref}")
        except InvalidRequest as exc:
            raise InvalidRequest(f"cannot fetch {_public(self.repo)} branch {self.branch}: "
                                 f"{exc}", code="git.fetch_failed") from exc
        return str(self.run("rev-parse", f"{ref}^{{commit}}")).strip()

    def _has_commit(self, sha: str) -> bool:
        try:
            self.run("cat-file", "-e", f"{sha}^{{commit}}")
        except InvalidRequest:
            return False
        return True

    def _selected(self, path: str) -> bool:
        if self.include and not any(glob_match(p, path) for p in self.include):
            return False
        return not any(glob_match(p, path) for p in self.exclude)

    def _item(self, commit: str, path: str, sha: str, size: int) -> SourceItem:
        return SourceItem(
            uri=path, media_type=media_type_for(path),
            read=_BlobReader(self, sha, path, size), size=size,
            metadata={"commit": commit, "path": path,
                      "url": self.link.format(commit=commit, path=path)})

    def _tree(self, commit: str) -> dict[str, tuple[str, int]]:
        """path -> (blob sha, size) of the regular files of ``commit`` that are selected."""
        out = self.run("ls-tree", "-r", "-z", "--long", commit)
        files = {}
        for entry in out.split("\0"):
            if not entry:
                continue
            meta, _, path = entry.partition("\t")
            mode, kind, sha, size = meta.split()
            if kind == "blob" and mode in ("100644", "100755") and self._selected(path):
                files[path] = (sha, int(size))
        return files

    # ---------------------------------------------------------------- listing
    def changes(self, cursor: dict[str, Any] | None) -> ChangeSet:
        commit = self.fetch()
        old = (cursor or {}).get("commit")
        tree = self._tree(commit)
        if not old or not self._has_commit(str(old)):
            items = [self._item(commit, p, *tree[p]) for p in sorted(tree)]
            return ChangeSet(items=items, cursor={"commit": commit}, complete=True,
                             notes={"commit": commit})
        out = self.run("diff", "--name-status", "-z", "--no-renames", str(old), commit)
        fields = [f for f in out.split("\0") if f]
        changed, deleted = [], []
        for status, path in zip(fields[::2], fields[1::2], strict=False):
            if status.startswith("D"):
                if self._selected(path):
                    deleted.append(path)
            elif path in tree:
                changed.append(path)
        items = [self._item(commit, p, *tree[p]) for p in sorted(changed)]
        return ChangeSet(items=items, deleted=sorted(deleted), cursor={"commit": commit},
                         complete=False, notes={"commit": commit, "previous": old,
                                                "changed": len(items), "deleted": len(deleted)})

    def items(self) -> Iterator[SourceItem]:
        """Every selected file of the branch's tip, by path (fetches first)."""
        return iter(self.changes(None).items)


def from_options(options: Mapping[str, Any], settings: Settings) -> GitConnector:
    """The ``git`` connector factory (entry point ``groundwire.connectors: git``).

    ``repo`` (required: URL or local path; a local path is made absolute), ``branch``
    (default ``main``), ``include``/``exclude`` (glob lists as the folder connector's),
    ``max_bytes`` (default ``ingest.max_file_mb``), ``cache_dir``, ``link`` (a template with
    ``{commit}`` and ``{path}``), ``timeout_s`` (per git command, default 120). Anything
    else: ``ConfigurationError``. No I/O."""
    unknown = sorted(set(options) - GIT_OPTIONS)
    if unknown:
        raise ConfigurationError(f"git connector: unknown option(s) {', '.join(unknown)} "
                                 f"(known: {', '.join(sorted(GIT_OPTIONS))})")
    repo = options.get("repo")
    if not isinstance(repo, str) or not repo:
        raise ConfigurationError("git connector: option 'repo' (a URL or path) is required")
    if "://" not in repo and not repo.startswith("git@"):
        repo = str(Path(repo).expanduser().resolve())
    branch = options.get("branch") or "main"
    if not isinstance(branch, str) or branch.startswith("-") or ".." in branch:
        raise ConfigurationError(f"git connector: invalid branch {branch!r}")
    lists = {}
    for key in ("include", "exclude"):
        value = options.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigurationError(f"git connector: option {key!r} must be a list of globs")
        lists[key] = value
    max_bytes = options.get("max_bytes") or int(settings.ingest.max_file_mb * 1024 * 1024)
    if not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ConfigurationError("git connector: 'max_bytes' must be a positive integer")
    key = hashlib.sha256(f"{_public(repo)}#{branch}".encode()).hexdigest()[:16]
    cache = Path(options.get("cache_dir") or Path(settings.data_dir) / "sources" / "git" / key)
    link = options.get("link")
    return GitConnector(repo, branch, cache.expanduser().resolve(), include=lists["include"],
                        exclude=lists["exclude"], max_bytes=max_bytes,
                        link=link if isinstance(link, str) else None,
                        timeout_s=float(options.get("timeout_s") or 120.0))
