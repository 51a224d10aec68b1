"""Saying out loud what fail-closed permissions hide.

Documents that state no permissions get ``security.default_readers`` — empty by default, so
only the tenant's admins read them (docs/security.md). That is right, and silent: a user's key
finds nothing and every answer abstains. ``ingest``, ``status``, the API's document listing and
``keys create`` use these helpers to say how many documents only admins can read, which
setting opens them, and how many a new key's user can read.
"""

from __future__ import annotations

from typing import Any

SETTING = "security.default_readers"
OPEN_ALL = (f'{SETTING} = ["*"] in groundwire.toml '
            """(or GROUNDWIRE_SECURITY__DEFAULT_READERS='["*"]')""")


def access_json(summary: dict[str, int]) -> dict[str, Any]:
    """The machine-readable form (``--json``, the API): counts and the setting."""
    return {**summary, "opened_by": SETTING}


def admin_only_note(summary: dict[str, int], *, tenant: str | None = None) -> str | None:
    """One line when some indexed documents are readable by admins only (else None)."""
    hidden, total = summary.get("admin_only", 0), summary.get("indexed", 0)
    if not hidden:
        return None
    whose = f"tenant {tenant!r}'s admins" if tenant else "their tenant's admins"
    return (f"{hidden} of {total} indexed documents are readable by {whose} only (they state "
            f"no readers and {SETTING} is empty: fail closed). To open documents without "
            f"permissions to every user of the tenant, set {OPEN_ALL} and ingest again; or "
            "give them permissions (sidecars, front matter: docs/security.md).")


def key_reach_note(summary: dict[str, int], *, tenant: str, user: str) -> str:
    """What a new non-admin key's user can read now, and why when it is nothing."""
    readable, total = summary.get("readable", 0), summary.get("indexed", 0)
    line = (f"user {user!r} can read {readable} of the {total} indexed documents of tenant "
            f"{tenant!r}")
    hidden = summary.get("admin_only", 0)
    if hidden:
        line += (f"; {hidden} are readable by admins only — set {OPEN_ALL} and ingest again "
                 "to open documents without permissions to the whole tenant")
    return line
