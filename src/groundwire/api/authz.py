"""Authorization of resources by tenant: the one place routes ask "may this caller see it?".

Index names, job ids and ingest roots are installation-wide, so every route that names one
checks it here:

* ``tenant_index``: an index exists *for a tenant* when that tenant holds a document in it
  (a logical name is resolved to its live version first); the operator (an admin of the
  default tenant) sees every index that holds documents, and every tenant sees ``default``
  (every installation has it; a read shows only the tenant's own documents, as always).
  Anything else — an unknown name,
  another tenant's index — is the same ``NotFound`` with the same message, so 200-vs-404
  reveals no other tenant's index names.
* ``index_owned``: whether the caller may change index-wide state (self-tuning): the operator
  always; a tenant only for an index no other tenant holds documents in (never ``default``,
  which every tenant may use).
* ``visible_job``: a job of the caller's tenant; a key without ``admin`` sees only the jobs it
  started. Another tenant's job and a missing one are the same ``NotFound``.
* ``check_ingest_path``: server paths are the operator's; other keys only paths under
  ``security.ingest_roots`` — checked when a job is started *and* when it is retried.
"""

from __future__ import annotations

from pathlib import Path

from groundwire.app import Groundwire, check_index_name
from groundwire.errors import Forbidden, NotFound
from groundwire.jobs.states import JobRecord
from groundwire.security.principal import Principal

SHARED_INDEX = "default"  # created at start-up, the index every tenant may use


def is_operator(gw: Groundwire, principal: Principal) -> bool:
    return principal.is_admin and principal.tenant == gw.settings.security.default_tenant


async def _tenancy(gw: Groundwire, principal: Principal, index: str) -> tuple[str, bool, bool]:
    check_index_name(index)
    if index == SHARED_INDEX:  # every installation has it: its name reveals nothing, and no
        # caller uses its physical name, so neither the alias route (the search routes it
        # itself) nor the tenancy lookup runs: two round trips less per search on it
        return index, True, True
    try:
        physical, _ = await gw.versions.resolve(index)
    except NotFound:
        physical = index
    mine, others = await gw.store.index_tenancy(physical, principal.tenant)
    if not (mine or (others and is_operator(gw, principal))):
        raise NotFound(f"no index named {index!r}")  # unknown and not-yours read the same
    return physical, mine, others


async def tenant_index(gw: Groundwire, principal: Principal, index: str) -> str:
    """``index`` if the caller's tenant holds a document in it; ``NotFound`` otherwise."""
    await _tenancy(gw, principal, index)
    return index


async def index_owned(gw: Groundwire, principal: Principal, index: str) -> bool:
    """After the ``tenant_index`` check: may the caller change or read index-wide state
    (self-tuning and its evidence, computed over every tenant's documents)?"""
    _, _, others = await _tenancy(gw, principal, index)
    return is_operator(gw, principal) or not others


async def visible_job(gw: Groundwire, principal: Principal, job_id: str,
                      kind: str | None = None) -> JobRecord:
    job = await gw.job_service().get(job_id, tenant=principal.tenant)
    if ((not principal.is_admin and job.owner != principal.name)
            or (kind is not None and job.kind != kind)):
        raise NotFound(f"no job {job_id}")
    return job


def check_ingest_path(path: str, principal: Principal, gw: Groundwire) -> None:
    """Server paths are the operator's: its admins may ingest any path; other keys only
    paths under ``security.ingest_roots`` (default: none — they use ``POST /v1/documents``)."""
    if is_operator(gw, principal):
        return
    target = Path(path).expanduser().resolve()
    for root in gw.settings.security.ingest_roots:
        if target.is_relative_to(Path(root).expanduser().resolve()):
            return
    raise Forbidden("this key may not ingest server paths outside security.ingest_roots; "
                    "push documents with POST /v1/documents instead")


def check_retry(job: JobRecord, principal: Principal, gw: Groundwire) -> None:
    """A retry runs the job's parameters again under the caller's authority: re-check them
    as if the job were started now (settings or the caller's rights may have changed)."""
    if job.kind == "ingest":
        check_ingest_path(str(job.params.get("path", "")), principal, gw)
    elif job.kind == "assessment" and not is_operator(gw, principal):
        raise Forbidden("assessments are the operator's: this key may not retry one")
