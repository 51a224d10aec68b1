"""``Principal``: the authenticated caller, and the reader tokens that decide what it may read.

A document stores its tenant and a list of *reader tokens* (``stores`` column ``readers``):

* ``t:<tenant>:admin``          — always present: a tenant's admins read every document of it
* ``t:<tenant>:user:<name>``    — one named user
* ``t:<tenant>:group:<name>``   — members of a group
* ``t:<tenant>:everyone``       — every user of the tenant

A principal carries the tokens it holds (``reader_tokens``). A document is readable iff the two
lists intersect — the same test in SQL (``readers && tokens``, GIN-indexed) and in the BM25
mask. Tokens are tenant-qualified, so no token of one tenant can ever match another tenant's
document, whatever the names. An empty permission list leaves only the admin token: fail closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundwire.domain.access import (
    Access,
    admin_token,
    everyone_token,
    group_token,
    readers_for,
    user_token,
)
from groundwire.domain.budgets import BudgetScopes

__all__ = ["SCOPES", "Access", "Principal", "readers_for"]

SCOPES = ("search", "ask", "ingest", "admin")


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. ``scopes`` ⊆ SCOPES; ``admin`` implies every scope.

    ``key_id`` is the public id of the API key used (None in dev mode / for the CLI)."""

    tenant: str
    user: str
    groups: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    def allows(self, scope: str) -> bool:
        return self.is_admin or scope in self.scopes

    @property
    def name(self) -> str:
        """Stable label for logs, budgets and audit: ``<tenant>/<user>``."""
        return f"{self.tenant}/{self.user}"

    def budget(self, workflow: str | None = None) -> BudgetScopes:
        """The budget scopes an answer for this caller is charged to: its principal, its API
        key (by public id) and ``workflow`` (``domain/budgets.py``)."""
        return BudgetScopes(self.name, key_id=self.key_id, workflow=workflow)

    def reader_tokens(self) -> tuple[str, ...]:
        tokens = [everyone_token(self.tenant), user_token(self.tenant, self.user)]
        tokens += [group_token(self.tenant, g) for g in sorted(self.groups)]
        if self.is_admin:
            tokens.append(admin_token(self.tenant))
        return tuple(tokens)

    def access(self) -> Access:
        return Access(tenant=self.tenant, tokens=frozenset(self.reader_tokens()))
