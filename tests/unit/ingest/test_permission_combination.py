"""Permissions from a source (folder sidecar, record file sidecar) and from the document itself
(front matter, a record's field) combine by intersection: no combination ever admits a
principal that the strictest statement does not admit (docs/security.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import product
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundwire.domain import Permissions, SourceItem, parse_permissions
from groundwire.errors import ParseError
from groundwire.ingest.parsers.records import iter_records
from groundwire.ingest.pipeline import IngestPipeline
from groundwire.security.principal import Principal

TENANT = "acme"
USERS = ("ann", "bob", "cy")
GROUPS = ("eng", "ops")
# Every (user, group set) principal of the small universe, plus the tenant admin.
PRINCIPALS = [Principal(TENANT, u, scopes=frozenset({"search"}), groups=frozenset(g))
              for u in USERS for g in ((), ("eng",), ("ops",), ("eng", "ops"))]
ADMIN = Principal(TENANT, "boss", scopes=frozenset({"admin"}))

permissions_st = st.builds(
    Permissions,
    users=st.lists(st.sampled_from(USERS), unique=True).map(lambda v: tuple(sorted(v))),
    groups=st.lists(st.sampled_from(GROUPS), unique=True).map(lambda v: tuple(sorted(v))),
    everyone=st.booleans(),
)


def admits(principal: Principal, readers: list[str] | tuple[str, ...]) -> bool:
    return principal.access().admits(TENANT, list(readers)) is not None


def pipeline(default: Permissions | None = None) -> IngestPipeline:
    return IngestPipeline(store=None, embedder=SimpleNamespace(model_id="m"),  # type: ignore[arg-type]
                          chunker=None, parsers={}, chunker_fingerprint="c",  # type: ignore[arg-type]
                          default_permissions=default)


def readers(source: Permissions | None, front: Any, default: Permissions | None = None,
            ) -> tuple[str, ...]:
    item = SourceItem(uri="doc.md", media_type="text/markdown", read=lambda: b"",
                      modified_at=datetime(2024, 1, 1, tzinfo=UTC), permissions=source)
    metadata: dict[str, object] = {} if front is None else {"permissions": front}
    return pipeline(default)._readers(item, metadata, TENANT)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(source=permissions_st, front=permissions_st)
def test_no_combination_admits_more_than_either_statement(
    source: Permissions, front: Permissions
) -> None:
    combined = readers(source, front.as_json())
    for principal in PRINCIPALS:
        if admits(principal, combined):
            assert admits(principal, source.readers(TENANT)), (principal, source, front)
            assert admits(principal, front.readers(TENANT)), (principal, source, front)
    assert admits(ADMIN, combined)  # the tenant's admins always read


@settings(max_examples=200, deadline=None, derandomize=True)
@given(a=permissions_st, b=permissions_st)
def test_intersection_is_exact_when_one_side_admits_everyone(
    a: Permissions, b: Permissions
) -> None:
    both = a.intersect(b)
    assert both == b.intersect(a)
    for principal in PRINCIPALS:
        exact = admits(principal, a.readers(TENANT)) and admits(principal, b.readers(TENANT))
        got = admits(principal, both.readers(TENANT))
        assert not got or exact  # never wider
        if a.everyone or b.everyone or not (a.groups or b.groups):
            assert got == exact  # and not narrower where tokens can say it exactly


# The table: (folder sidecar, front matter) -> who reads, as a predicate on (user, groups).
# The first two are the regressions: either side widening the other.
TABLE = [
    # a sidecar opening the folder to everyone must not widen a file restricted to ann
    (["*"], ["user:ann"], lambda u, g: u == "ann"),
    # a file opening itself to everyone must not widen a folder restricted to group eng
    (["group:eng"], ["*"], lambda u, g: "eng" in g),
    (["group:eng"], ["user:ann"], lambda u, g: False),  # no token says "ann and in eng"
    (["user:ann", "user:bob"], ["user:bob", "user:cy"], lambda u, g: u == "bob"),
    (["group:eng", "user:cy"], ["group:eng"], lambda u, g: "eng" in g),
    ([], ["*"], lambda u, g: False),  # an explicit empty sidecar: admins only
    (None, ["user:ann"], lambda u, g: u == "ann"),
    (["user:ann"], None, lambda u, g: u == "ann"),
    (None, None, lambda u, g: False),  # nothing stated: the default (admins only)
]


@pytest.mark.parametrize(("sidecar", "front", "expected"), TABLE)
def test_combination_table(sidecar: list[str] | None, front: list[str] | None,
                           expected: Any) -> None:
    source = None if sidecar is None else parse_permissions(sidecar)
    combined = readers(source, front)
    for principal in PRINCIPALS:
        assert admits(principal, combined) == expected(principal.user, principal.groups), (
            principal, combined)
    assert admits(ADMIN, combined)


def test_defaults_apply_only_when_nothing_is_stated() -> None:
    everyone = Permissions(everyone=True)
    assert readers(None, None, default=everyone) == tuple(everyone.readers(TENANT))
    assert readers(Permissions(users=("ann",)), None, default=everyone) == (
        "t:acme:admin", "t:acme:user:ann")


def test_each_statement_is_checked_against_the_tenant() -> None:
    for source, front in product([Permissions(tenant="other"), None],
                                 [{"users": ["ann"], "tenant": "other"}, None]):
        if source is None and front is None:
            continue
        with pytest.raises(ParseError) as info:
            readers(source, front)
        assert info.value.code == "permissions.tenant_mismatch"


def test_a_record_field_narrows_its_files_sidecar_never_widens() -> None:
    data = "".join(json.dumps(r) + "\n" for r in [
        {"id": "1", "text": "open record", "permissions": ["*"]},
        {"id": "2", "text": "ann's record", "permissions": ["user:ann", "user:bob"]},
        {"id": "3", "text": "no field"},
    ]).encode()
    container = SourceItem(uri="r.jsonl", media_type="application/x-ndjson",
                           read=lambda: data, modified_at=datetime(2024, 1, 1, tzinfo=UTC),
                           permissions=Permissions(users=("ann",)))
    got = {r.uri: r.permissions for r in iter_records(container, permissions_field="permissions")}
    assert got == {"r.jsonl#1": Permissions(users=("ann",)),
                   "r.jsonl#2": Permissions(users=("ann",)),
                   "r.jsonl#3": Permissions(users=("ann",))}


def test_a_broken_sidecar_keeps_failing_records_that_state_permissions() -> None:
    data = (json.dumps({"id": "1", "text": "t", "permissions": ["*"]}) + "\n").encode()
    container = SourceItem(uri="r.jsonl", media_type="application/x-ndjson",
                           read=lambda: data, modified_at=datetime(2024, 1, 1, tzinfo=UTC),
                           permissions=None, permissions_error="r.jsonl.permissions.json: bad")
    (record,) = iter_records(container, permissions_field="permissions")
    assert record.permissions is None and record.permissions_error
