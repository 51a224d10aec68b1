"""``SourceService``: named sources — add, list, remove, sync now, and queue the due ones.

A named source is a row (``stores/ports/sources.py``): a connector type (a
``groundwire.connectors`` entry point), its options, the index and tenant it feeds and an
optional schedule. Contract:

* ``add`` validates the name, the type (registered), the schedule and the options (no
  credential in clear, see ``secrets.py``; the connector's factory accepts them when their
  references resolve here) and stores the options *as given*.
* ``sync`` builds the connector with the references resolved, asks it what changed since the
  cursor of the last sync (``ingest/connectors/changes.py``; a plain ``Connector`` lists
  everything) and ingests it through the host's ``ingest_items``: a complete listing deletes
  every document of that source not in it, an incremental one deletes what the connector says
  was deleted. When the connector cannot list its source, ``SourceUnreachable``
  (``source.unreachable``) is recorded on the source and raised **before** anything is
  written or deleted: an outage is never a deletion. Results are ``ingest --json``'s counts.
* ``queue_due`` takes the sources whose ``next_run_at`` has come (atomically, so two workers
  never queue one twice), moves their next run on and queues a ``source_sync`` job for each.
* Every view (``view``) masks credentials; resolved values are never stored or returned, and
  scrubbed from error messages.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from groundwire.domain import IngestReport, SourceItem
from groundwire.errors import GroundwireError, InvalidRequest
from groundwire.ingest.connectors.changes import ChangeSet, IncrementalConnector
from groundwire.sources.errors import SourceUnreachable
from groundwire.sources.retries import RetryPolicy, failed_documents
from groundwire.sources.schedule import check_schedule, next_run
from groundwire.sources.secrets import check_no_clear_secrets, mask, resolve

if TYPE_CHECKING:
    from collections.abc import Iterable

    from groundwire.jobs.service import JobService
    from groundwire.settings import Settings
    from groundwire.stores.base import Store

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_INDEX = re.compile(r"^[a-z0-9._-]{1,64}$")


class SyncHost(Protocol):
    """What syncing uses (the application gives it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...

    @property
    def jobs(self) -> JobService | None: ...

    async def ingest_items(
        self, items: Iterable[SourceItem], *, index: str, source: tuple[str, str],
        retry_failed: bool = False, delete_missing: bool = True, progress: Any = None,
        tenant: str | None = None,
    ) -> IngestReport: ...


class SourceService:
    def __init__(self, host: SyncHost, retry: RetryPolicy | None = None) -> None:
        """``retry``: how failed documents are retried (``retries.py``; default 60 s
        doubling, 5 attempts, then dead letter)."""
        self.host = host
        self.store = host.store
        self.retry = retry or RetryPolicy()

    def _tenant(self, tenant: str | None) -> str:
        return tenant or self.host.settings.security.default_tenant

    # ------------------------------------------------------------------ manage
    async def add(self, name: str, type: str, options: dict[str, Any], *,
                  index: str = "default", tenant: str | None = None,
                  schedule: str | None = None) -> dict[str, Any]:
        """Store a new named source (see the module contract); its view."""
        from groundwire.registry import connectors

        if not _NAME.match(name):
            raise InvalidRequest(f"invalid source name {name!r}: 1-64 of a-z, 0-9, '.', '_', "
                                 "'-', starting with a letter or digit", code="source.invalid_name")
        if not _INDEX.match(index):
            raise InvalidRequest(f"invalid index name {index!r}", code="request.invalid")
        if not isinstance(options, dict):
            raise InvalidRequest("options must be an object", code="source.invalid_options")
        if type not in connectors():
            raise InvalidRequest(f"unknown source type {type!r} (known: "
                                 f"{', '.join(connectors().names())})", code="source.unknown_type")
        check_no_clear_secrets(options)
        schedule = check_schedule(schedule)
        try:
            resolved = resolve(options)
        except InvalidRequest:
            resolved = None  # a reference only the workers can resolve: checked at sync
        if resolved is not None:
            try:
                connectors().get(type)(resolved, self.host.settings)
            except GroundwireError as exc:
                raise InvalidRequest(_scrub(str(exc), options),
                                     code="source.invalid_options") from exc
        row = await self.store.insert_source(
            tenant=self._tenant(tenant), name=name, type=type, options=options, index=index,
            schedule=schedule, next_run_at=next_run(schedule))
        return await self.view(row)

    async def list_sources(self, tenant: str | None = None) -> list[dict[str, Any]]:
        return [await self.view(r) for r in await self.store.list_sources(self._tenant(tenant))]

    async def get(self, name: str, tenant: str | None = None) -> dict[str, Any]:
        return await self.view(await self.store.get_source(self._tenant(tenant), name))

    async def remove(self, name: str, tenant: str | None = None, *,
                     delete_documents: bool = True) -> dict[str, Any]:
        """Forget the source; with ``delete_documents`` its documents leave the index too.
        ``NotFound`` when there is none."""
        tenant = self._tenant(tenant)
        row = await self.store.get_source(tenant, name)
        deleted = 0
        identity = (row.get("cursor") or {}).get("source")
        if delete_documents and identity:
            report = await self.host.ingest_items(
                [], index=row["index_name"], source=(identity[0], identity[1]),
                delete_missing=True, tenant=tenant)
            deleted = report.deleted
        await self.store.delete_source(tenant, name)
        return {"name": name, "removed": True, "documents_deleted": deleted}

    async def view(self, row: dict[str, Any]) -> dict[str, Any]:
        """What list/get show: masked options, last sync, counts by state, errors, next run."""
        report = row.get("last_report") or {}
        failures = (row.get("cursor") or {}).get("failures") or {}
        return {
            "name": row["name"], "type": row["type"], "tenant": row["tenant"],
            "index": row["index_name"], "options": mask(row["options"]),
            "schedule": row["schedule"], "next_run_at": _iso(row["next_run_at"]),
            "last_sync_at": _iso(row["last_sync_at"]), "last_status": row["last_status"],
            "last_error": row["last_error"],
            "documents": await self._counts(row),
            "errors": dict(report.get("errors") or {}),
            "last_report": report or None,
            "retrying": [{"uri": u, **f} for u, f in sorted(failures.items())
                         if not f.get("dead")],
            "dead_letter": [{"uri": u, **f} for u, f in sorted(failures.items())
                            if f.get("dead")],
        }

    async def _counts(self, row: dict[str, Any]) -> dict[str, int]:
        identity = (row.get("cursor") or {}).get("source")
        if not identity:
            return {}
        physical = await self.store.resolve_index(row["index_name"])
        source_id = await self._source_id(physical, identity, row["tenant"])
        if source_id is None:
            return {}
        counts: dict[str, int] = {}
        for known in (await self.store.known_documents(physical, source_id)).values():
            state = str(getattr(known.state, "value", known.state))
            counts[state] = counts.get(state, 0) + 1
        return counts

    async def _source_id(self, physical: str, identity: list[str], tenant: str) -> int | None:
        for src in await self.store.index_sources(physical):
            if [src.get("kind"), src.get("location")] == list(identity) and \
                    src.get("tenant", tenant) == tenant:
                return int(src["id"])
        return None

    # ------------------------------------------------------------------ sync
    async def sync(self, name: str, tenant: str | None = None) -> dict[str, Any]:
        """Sync one source now (see the module contract); ``ingest --json``'s counts plus
        ``name``, ``index``, ``status`` and ``changes``."""
        from groundwire.registry import connectors

        tenant = self._tenant(tenant)
        row = await self.store.get_source(tenant, name)
        schedule = row["schedule"]
        try:
            resolved = resolve(row["options"])
            connector = connectors().get(row["type"])(resolved, self.host.settings)
        except GroundwireError as exc:
            await self._record_failure(row, exc.code, _scrub(str(exc), row["options"]))
            raise
        identity = list(connector.source)
        previous = row.get("cursor") or {}
        same = previous.get("source") == identity
        failures: dict[str, Any] = (previous.get("failures") or {}) if same else {}
        now = datetime.now(UTC)
        retried = self.retry.due(failures, now)
        state = previous.get("state") if same and not retried else None
        try:
            changes = await asyncio.to_thread(_list, connector, state)
        except Exception as exc:  # noqa: BLE001 - any listing failure is an outage
            message = _scrub(f"{name}: cannot list the {row['type']} source: {exc}",
                             row["options"], resolved)
            await self._record_failure(row, SourceUnreachable.code, message)
            raise SourceUnreachable(message) from exc
        try:
            report = await self.host.ingest_items(
                changes.items, index=row["index_name"], source=connector.source,
                delete_missing=changes.complete, tenant=tenant, retry_failed=retried)
            if changes.deleted and not changes.complete:
                report.deleted += await self._delete(row["index_name"], identity, tenant,
                                                     changes.deleted)
        except GroundwireError as exc:
            await self._record_failure(row, exc.code, _scrub(str(exc), row["options"],
                                                               resolved))
            raise
        physical = await self.store.resolve_index(row["index_name"])
        failed = await failed_documents(
            self.store, physical, await self._source_id(physical, identity, tenant), tenant)
        failures = self.retry.update(failures, failed, retried=retried, now=now)
        upcoming = [t for t in (next_run(schedule), self.retry.next_retry(failures)) if t]
        data = report.as_json()
        await self.store.record_sync(
            tenant, name, status="ok", error=None, report=data,
            cursor={"source": identity, "state": changes.cursor, "failures": failures},
            next_run_at=min(upcoming) if upcoming else None)
        return {"name": name, "index": row["index_name"], "status": "ok", **data,
                "changes": {"complete": changes.complete, "retried_failed": retried,
                            **changes.notes},
                "dead_letter": sorted(u for u, f in failures.items() if f["dead"])}

    async def sync_all(self, tenant: str | None = None) -> list[dict[str, Any]]:
        """Sync every source of ``tenant`` in name order; a failure is that source's result
        (``status`` ``failed``/``unreachable`` with its ``error``), the others still run."""
        results = []
        for row in await self.store.list_sources(self._tenant(tenant)):
            try:
                results.append(await self.sync(row["name"], row["tenant"]))
            except GroundwireError as exc:
                results.append({"name": row["name"], "index": row["index_name"],
                                "status": _status_of(exc.code),
                                "error": {"code": exc.code, "message": exc.message}})
        return results

    async def _delete(self, index: str, identity: list[str], tenant: str,
                      uris: list[str]) -> int:
        physical = await self.store.resolve_index(index)
        source_id = await self._source_id(physical, identity, tenant)
        if source_id is None:
            return 0
        async with self.store.index_write_lock(physical):
            return await self.store.delete_documents(physical, uris, source_id)

    async def _record_failure(self, row: dict[str, Any], code: str, message: str) -> None:
        await self.store.record_sync(
            row["tenant"], row["name"], status=_status_of(code),
            error={"code": code, "message": message, "at": datetime.now(UTC).isoformat()},
            report=None, cursor=None, next_run_at=next_run(row["schedule"]))

    # ------------------------------------------------------------------ schedule
    async def queue_due(self, now: datetime | None = None) -> list[str]:
        """Queue a ``source_sync`` job for every due source; the job ids."""
        now = now or datetime.now(UTC)
        jobs = self.host.jobs
        if jobs is None:
            return []
        due = await self.store.claim_due_sources(now, lambda r: next_run(r["schedule"], now))
        queued = []
        for row in due:
            job = await jobs.enqueue("source_sync", tenant=row["tenant"], owner="scheduler",
                                     params={"name": row["name"], "tenant": row["tenant"]})
            queued.append(job.id)
        return queued


def _list(connector: Any, state: dict[str, Any] | None) -> ChangeSet:
    if isinstance(connector, IncrementalConnector):
        return connector.changes(state)
    return ChangeSet(items=list(connector.items()), complete=True)


def _status_of(code: str) -> str:
    return "unreachable" if code == SourceUnreachable.code else "failed"


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _secrets(options: Any, resolved: Any) -> list[str]:
    """The resolved values of the references in ``options`` (to scrub from messages)."""
    found: list[str] = []
    if isinstance(options, dict) and isinstance(resolved, dict):
        for key, value in options.items():
            found += _secrets(value, resolved.get(key))
    elif isinstance(options, list) and isinstance(resolved, list):
        for value, res in zip(options, resolved, strict=False):
            found += _secrets(value, res)
    elif isinstance(options, str) and options != resolved and isinstance(resolved, str):
        found.append(resolved)
        if "://" in resolved:
            from urllib.parse import urlsplit

            try:
                password = urlsplit(resolved).password
            except ValueError:
                password = None
            if password:
                found.append(password)
    return found


def _scrub(message: str, options: Any, resolved: Any = None) -> str:
    """``message`` without any resolved credential or URL password."""
    for secret in sorted(_secrets(options, resolved), key=len, reverse=True):
        if len(secret) >= 3:
            message = message.replace(secret, "***")
    return re.sub(r"(://[^:/@\s]+:)[^@/\s]+@", r"\1***@", message)
