"""Whether a document carries permission metadata: the one rule, shared by the assessment and
(later) the security feature.

A document has permission metadata when its metadata (record fields, Markdown front matter,
parser metadata, store metadata) carries a non-empty value under one of ``PERMISSION_KEYS``,
or when a sidecar file ``<file>.acl.json`` exists next to the source file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PERMISSION_KEYS = ("permissions", "acl", "allowed_users", "allowed_groups")
SIDECAR_SUFFIX = ".acl.json"


def sidecar_path(path: Path) -> Path:
    """The ACL sidecar of a source file: ``report.pdf`` -> ``report.pdf.acl.json``."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def is_sidecar(uri_or_path: str) -> bool:
    """Whether a file is itself an ACL sidecar (never a document of its own)."""
    return uri_or_path.lower().endswith(SIDECAR_SUFFIX)


def permission_metadata(
    metadata: Mapping[str, Any] | None, *, path: Path | None = None
) -> dict[str, Any] | None:
    """The permission metadata of a document, or None when it has none.

    Keys of ``metadata`` in ``PERMISSION_KEYS`` with a non-empty value win (returned as a
    dict of those keys). Otherwise, when ``path`` is a file with a readable
    ``<file>.acl.json`` sidecar holding a JSON value, that value is returned as
    ``{"sidecar": value}`` (an unreadable or malformed sidecar still counts: it is returned
    as ``{"sidecar": None, "error": reason}``, since someone meant to restrict the file).
    """
    found = {
        key: value
        for key, value in (metadata or {}).items()
        if key in PERMISSION_KEYS and value not in (None, "", [], {})
    }
    if found:
        return found
    if path is None:
        return None
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return None
    try:
        return {"sidecar": json.loads(sidecar.read_text(encoding="utf-8"))}
    except (OSError, ValueError) as exc:
        return {"sidecar": None, "error": f"{type(exc).__name__}: {exc}"}
