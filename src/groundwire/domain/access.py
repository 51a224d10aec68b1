"""``Access``: what one read may see (a tenant and the reader tokens held).

Built from an authenticated ``Principal`` (``groundwire.security.principal``); stores and
retrievers apply it *inside* their queries, before ranking. A document is readable iff it
belongs to ``tenant`` and one of its reader tokens is in ``tokens``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Access:
    """What a read may see: one tenant, and the reader tokens held. ``Access.system()`` (CLI,
    offline evaluation) reads everything and must never be built from a request."""

    tenant: str | None
    tokens: frozenset[str] = field(default_factory=frozenset)
    unrestricted: bool = False

    @classmethod
    def system(cls) -> Access:
        return cls(tenant=None, unrestricted=True)

    def admits(self, tenant: str, readers: Sequence[str]) -> str | None:
        """The reader entry that lets this access read a document, or None (the oracle used
        by tests and by the audit trail: *which* permission admitted a cited passage)."""
        if self.unrestricted:
            return "system"
        if tenant != self.tenant:
            return None
        admin = None
        for token in readers:
            if token in self.tokens:
                if not token.endswith(":admin"):
                    return token  # the most specific entry: a user, a group, everyone
                admin = token
        return admin


def admin_token(tenant: str) -> str:
    return f"t:{tenant}:admin"


def everyone_token(tenant: str) -> str:
    return f"t:{tenant}:everyone"


def user_token(tenant: str, user: str) -> str:
    return f"t:{tenant}:user:{user}"


def group_token(tenant: str, group: str) -> str:
    return f"t:{tenant}:group:{group}"


@dataclass(frozen=True, slots=True)
class Permissions:
    """Who may read a document, as a source states it (before tenant qualification).

    ``everyone``: every user of the tenant. Empty users and groups with ``everyone`` false
    means *nobody but the tenant's admins* (an explicit empty list is not "no filter")."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    everyone: bool = False
    tenant: str | None = None

    def readers(self, tenant: str) -> list[str]:
        return readers_for(tenant, self.users, self.groups, everyone=self.everyone)

    def intersect(self, other: Permissions) -> Permissions:
        """Permissions admitting only principals that *both* admit (never more than either).

        Reader tokens are alternatives (any one admits), so a conjunction such as "in group
        eng *and* in group ops" has no exact token form; the result then errs strict: a user
        named by one side and admitted by the other only through a group is left out (name
        the user on both sides). ``ValueError`` when the two name different tenants."""
        if self.tenant and other.tenant and self.tenant != other.tenant:
            raise ValueError(f"permissions name two tenants: {self.tenant!r} and "
                             f"{other.tenant!r}")
        users = set(self.users) & set(other.users)
        groups = set(self.groups) & set(other.groups)
        if other.everyone:  # the other side admits the whole tenant: ours decide
            users |= set(self.users)
            groups |= set(self.groups)
        if self.everyone:
            users |= set(other.users)
            groups |= set(other.groups)
        return Permissions(users=tuple(sorted(users)), groups=tuple(sorted(groups)),
                           everyone=self.everyone and other.everyone,
                           tenant=self.tenant or other.tenant)

    def as_json(self) -> dict[str, Any]:
        return {"users": list(self.users), "groups": list(self.groups),
                "everyone": self.everyone, **({"tenant": self.tenant} if self.tenant else {})}


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-+")


def _name(value: Any, what: str) -> str:
    text = str(value).strip()
    if not text or len(text) > 200 or not set(text) <= _NAME_CHARS:
        raise ValueError(f"invalid {what} name {value!r}: use letters, digits and ._@-+")
    return text


def parse_permissions(value: Any) -> Permissions:
    """Read permissions in any of the accepted forms; ``ValueError`` on anything else.

    * a mapping ``{"users": [...], "groups": [...], "everyone": bool, "tenant": str}``
    * a list of entries ``"user:alice"``, ``"group:eng"``, ``"*"`` (everyone) or a bare name
      (a user)
    * a string of such entries separated by commas
    """
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, Mapping):
        unknown = set(value) - {"users", "groups", "everyone", "tenant"}
        if unknown:
            raise ValueError(f"unknown permission keys: {sorted(unknown)}")
        users = _entries(value.get("users", ()), "user")
        groups = _entries(value.get("groups", ()), "group")
        everyone = value.get("everyone", False)
        if not isinstance(everyone, bool):
            raise ValueError("permissions.everyone must be true or false")
        tenant = value.get("tenant")
        return Permissions(
            users=tuple(sorted(set(users) - {"*"})), groups=tuple(sorted(set(groups))),
            everyone=everyone or "*" in users, tenant=_name(tenant, "tenant") if tenant else None,
        )
    if isinstance(value, list | tuple):
        users_l: list[str] = []
        groups_l: list[str] = []
        everyone = False
        for entry in value:
            text = str(entry).strip()
            if text == "*":
                everyone = True
            elif text.startswith("group:"):
                groups_l.append(_name(text[6:], "group"))
            elif text.startswith("user:"):
                users_l.append(_name(text[5:], "user"))
            else:
                users_l.append(_name(text, "user"))
        return Permissions(tuple(sorted(set(users_l))), tuple(sorted(set(groups_l))), everyone)
    raise ValueError(
        f"permissions must be a mapping, a list or a string, not {type(value).__name__}"
    )


def _entries(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple):
        raise ValueError(f"permissions.{what}s must be a list")
    return ["*" if str(v).strip() == "*" else _name(v, what) for v in value]


def readers_for(tenant: str, users: Iterable[str] = (), groups: Iterable[str] = (),
                everyone: bool = False) -> list[str]:
    """Reader tokens of a document: the admin token first, then the listed entries."""
    tokens = [admin_token(tenant)]
    if everyone:
        tokens.append(everyone_token(tenant))
    tokens += [user_token(tenant, u) for u in sorted(set(users))]
    tokens += [group_token(tenant, g) for g in sorted(set(groups))]
    return tokens
