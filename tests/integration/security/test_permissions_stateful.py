"""Hypothesis stateful test: no read path ever returns a passage its reader may not read.

The machine plays two tenants with users, groups and documents whose permissions (including
empty ones) change, groups that lose members or vanish, and deletions. After any step a
reader may be checked through one of the read paths — search, ask, chat completions, document
listing with counts, document get (every id ever seen) — against the oracle ``can_read``:

* nothing unreadable is returned (no id, no uri, no text, no per-tenant canary string);
* search returns *every* readable document (the filter does not over-restrict either);
* listing counts equal the number of readable documents.

Every document's text holds a canary naming its tenant and document; no canary may appear in
any response of a reader who cannot read it, nor in any log line. Runs through the real API
(in process), real PostgreSQL, the fake embedder. ``GW_PERMISSION_EXAMPLES`` sets the number
of examples (default 2000, the acceptance floor).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("GW_PERMISSION_EXAMPLES", "2000"))
TENANTS = ("a", "b")
USERS = ("u0", "u1", "u2")
GROUPS = ("g0", "g1")
READ_PATHS = ("search", "ask", "chat", "list", "get", "tuning")


@dataclass
class Doc:
    id: int
    tenant: str
    uri: str
    canary: str
    users: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    everyone: bool = False
    deleted: bool = False


class _Logs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__}")


def _shape(response: Any, name: str) -> str:
    body = response.json()
    body["error"].pop("request_id", None)
    return json.dumps(body, sort_keys=True).replace(name, "<name>")


def test_no_read_path_leaks(secured: Any) -> None:
    client = secured.client
    run = uuid.uuid4().hex[:6]
    tenants = {t: f"p{run}{t}" for t in TENANTS}
    keys = {(t, u): secured.key(tenants[t], u, scopes=("search", "ask")) for t in TENANTS
            for u in USERS}
    admins = {t: secured.key(tenants[t], "boss", scopes=("admin",)) for t in TENANTS}
    # Every record at any level, from every logger: on the root and directly on "groundwire"
    # (configure_logging turns that logger's propagation off), both opened to DEBUG for the
    # run; the levels and handlers are restored afterwards.
    logs = _Logs()
    watched = [logging.getLogger(), logging.getLogger("groundwire")]
    saved_levels = [logger.level for logger in watched]
    for logger in watched:
        logger.addHandler(logs)
        logger.setLevel(logging.DEBUG)
    counter = iter(range(10**9))

    class Permissions(RuleBasedStateMachine):
        docs = Bundle("docs")

        @initialize()
        def setup(self) -> None:
            self.index = f"perm-{run}-{next(counter)}"
            self.members: dict[str, dict[str, set[str]]] = {t: {} for t in TENANTS}
            self.all_docs: list[Doc] = []
            for t in TENANTS:  # reset memberships left by the previous example
                for group in GROUPS:
                    secured.call(secured.gw.store.delete_group, tenants[t], group)
                    secured.call(secured.gw.store.ensure_group, tenants[t], group)
                    self.members[t][group] = set()

        @staticmethod
        def index_read(path: str, headers: dict[str, str], index: str) -> Any:
            if path == "search":
                return client.post("/v1/search", headers=headers, json={
                    "query": "orchid greenhouse note", "index": index, "top_k": 100})
            if path == "ask":
                return client.post("/v1/ask", headers=headers, json={
                    "question": "What does the orchid greenhouse note mention?",
                    "index": index})
            if path == "chat":
                return client.post("/v1/chat/completions", headers=headers, json={
                    "model": f"groundwire/{index}",
                    "messages": [{"role": "user", "content": "Which orchid notes exist?"}]})
            if path == "list":
                return client.get(f"/v1/documents?index={index}&limit=1000", headers=headers)
            return client.get(f"/v1/indexes/{index}/tuning", headers=headers)

        def can_read(self, tenant: str, user: str, doc: Doc) -> bool:
            if doc.deleted or doc.tenant != tenant:
                return False
            if user == "boss":
                return True
            in_groups = {g for g, m in self.members[tenant].items() if user in m}
            return doc.everyone or user in doc.users or bool(in_groups & doc.groups)

        @rule(target=docs, tenant=st.sampled_from(TENANTS),
              users=st.sets(st.sampled_from(USERS)), groups=st.sets(st.sampled_from(GROUPS)),
              everyone=st.booleans() | st.just(False))
        def add_document(self, tenant: str, users: set[str], groups: set[str],
                         everyone: bool) -> Doc:
            n = next(counter)
            canary = f"CANARY{tenant.upper()}{run}X{n}"
            uri = f"doc-{n}"
            body = {"index": self.index, "documents": [{
                "uri": uri, "title": f"Orchid note {n}",
                "text": f"Orchid greenhouse note {n} mentions {canary} in passing.",
                "permissions": {"users": sorted(users), "groups": sorted(groups),
                                "everyone": everyone}}]}
            r = client.post("/v1/documents", json=body, headers=secured.as_(admins[tenant]))
            assert r.status_code == 200, r.text
            doc = Doc(r.json()["documents"][0]["id"], tenant, uri, canary, set(users),
                      set(groups), everyone)
            self.all_docs.append(doc)
            return doc

        @rule(doc=docs, users=st.sets(st.sampled_from(USERS)),
              groups=st.sets(st.sampled_from(GROUPS)), everyone=st.booleans())
        def change_permissions(self, doc: Doc, users: set[str], groups: set[str],
                               everyone: bool) -> None:
            r = client.put(f"/v1/documents/{doc.id}/permissions",
                           headers=secured.as_(admins[doc.tenant]),
                           json={"users": sorted(users), "groups": sorted(groups),
                                 "everyone": everyone})
            if doc.deleted:
                assert r.status_code == 404
                return
            assert r.status_code == 200, r.text
            doc.users, doc.groups, doc.everyone = set(users), set(groups), everyone

        @rule(doc=consumes(docs))
        def delete_document(self, doc: Doc) -> None:
            r = client.delete(f"/v1/documents/{doc.id}", headers=secured.as_(admins[doc.tenant]))
            assert r.status_code == (404 if doc.deleted else 204), r.text
            doc.deleted = True

        @rule(tenant=st.sampled_from(TENANTS), group=st.sampled_from(GROUPS),
              user=st.sampled_from(USERS))
        def join(self, tenant: str, group: str, user: str) -> None:
            if group not in self.members[tenant]:
                return
            r = client.put(f"/v1/admin/groups/{group}/members/{user}",
                           headers=secured.as_(admins[tenant]))
            assert r.status_code == 204, r.text
            self.members[tenant][group].add(user)

        @rule(tenant=st.sampled_from(TENANTS), group=st.sampled_from(GROUPS),
              user=st.sampled_from(USERS))
        def leave(self, tenant: str, group: str, user: str) -> None:
            r = client.delete(f"/v1/admin/groups/{group}/members/{user}",
                              headers=secured.as_(admins[tenant]))
            member = user in self.members[tenant].get(group, set())
            assert r.status_code == (204 if member else 404), r.text
            if member:
                self.members[tenant][group].discard(user)

        @rule(tenant=st.sampled_from(TENANTS), group=st.sampled_from(GROUPS))
        def remove_group(self, tenant: str, group: str) -> None:
            r = client.delete(f"/v1/admin/groups/{group}", headers=secured.as_(admins[tenant]))
            assert r.status_code == (204 if group in self.members[tenant] else 404), r.text
            self.members[tenant].pop(group, None)

        @rule(tenant=st.sampled_from(TENANTS), group=st.sampled_from(GROUPS))
        def create_group(self, tenant: str, group: str) -> None:
            r = client.post("/v1/admin/groups", headers=secured.as_(admins[tenant]),
                            json={"name": group})
            assert r.status_code == 201, r.text
            self.members[tenant].setdefault(group, set())

        @precondition(lambda self: bool(self.all_docs))
        @rule(tenant=st.sampled_from(TENANTS), user=st.sampled_from(USERS + ("boss",)),
              path=st.sampled_from(READ_PATHS))
        def read(self, tenant: str, user: str, path: str) -> None:
            token = admins[tenant] if user == "boss" else keys[(tenant, user)]
            headers = secured.as_(token)
            readable = [d for d in self.all_docs if self.can_read(tenant, user, d)]
            hidden = [d for d in self.all_docs if not self.can_read(tenant, user, d)]
            texts: list[str] = []
            if path != "get" and not any(d.tenant == tenant and not d.deleted
                                         for d in self.all_docs):
                # an index where this tenant holds nothing (empty, or only the other
                # tenant's documents) answers exactly like a name that was never made
                r = self.index_read(path, headers, self.index)
                absent = self.index_read(path, headers, f"never-{run}")
                assert r.status_code == 404, (path, r.text)
                assert _shape(r, self.index) == _shape(absent, f"never-{run}"), path
                texts.append(r.text)
            elif path == "tuning":
                r = self.index_read(path, headers, self.index)
                assert r.status_code == 200, r.text
                texts.append(r.text)
            elif path == "search":
                r = client.post("/v1/search", headers=headers,
                                json={"query": "orchid greenhouse note", "index": self.index,
                                      "top_k": 100})
                assert r.status_code == 200, r.text
                got = {h["document_id"] for h in r.json()["hits"]}
                assert got == {d.id for d in readable}
                texts.append(r.text)
            elif path == "ask":
                r = client.post("/v1/ask", headers=headers,
                                json={"question": "What does the orchid greenhouse note "
                                      "mention?", "index": self.index})
                assert r.status_code == 200, r.text
                body = r.json()
                cited = {c["uri"] for c in body["citations"]} | {
                    p["uri"] for p in body["passages"]}
                assert cited <= {d.uri for d in readable}
                texts.append(r.text)
            elif path == "chat":
                r = client.post("/v1/chat/completions", headers=headers, json={
                    "model": f"groundwire/{self.index}",
                    "messages": [{"role": "user", "content": "Which orchid notes exist?"}]})
                assert r.status_code == 200, r.text
                ext = r.json()["groundwire"]
                assert {c["uri"] for c in ext.get("citations", [])} <= {d.uri for d in readable}
                texts.append(r.text)
            elif path == "list":
                r = client.get(f"/v1/documents?index={self.index}&limit=1000", headers=headers)
                assert r.status_code == 200, r.text
                body = r.json()
                assert {d["id"] for d in body["documents"]} == {d.id for d in readable}
                assert body["counts"]["indexed"] == len(readable)
                texts.append(r.text)
            else:
                for doc in self.all_docs:
                    r = client.get(f"/v1/documents/{doc.id}", headers=headers)
                    assert r.status_code == (200 if doc in readable else 404), r.text
                    texts.append(r.text)
            joined = "\n".join(texts)
            for doc in hidden:
                assert doc.canary not in joined, (path, user, doc)

    try:
        # derandomize and print_blob come from the loaded profile (tests/conftest.py)
        run_state_machine_as_test(Permissions, settings=settings(
            max_examples=EXAMPLES, stateful_step_count=6, deadline=None,
            suppress_health_check=list(HealthCheck)))
        # The handler can see a leak: an INFO record of an app logger carrying a canary (as a
        # leaking log line would) is caught, however logging was configured meanwhile.
        logging.getLogger("groundwire.api").info("probe", extra={"probe": f"CANARYPROBE{run}"})
    finally:
        for logger, level in zip(watched, saved_levels, strict=True):
            logger.removeHandler(logs)
            logger.setLevel(level)
    probes = [line for line in logs.lines if f"CANARYPROBE{run}" in line]
    assert probes, "the log handler never sees INFO records: it cannot catch a leak"
    lines = [line for line in logs.lines if f"CANARYPROBE{run}" not in line]
    assert any("'levelno': 20" in line and "'name': 'groundwire" in line for line in lines), (
        "no INFO record of the app reached the handler during the run")
    leaked = [line for line in lines if "CANARY" in line]
    assert not leaked, leaked[:3]
