"""The operator console at ``/admin`` (server-rendered) and the index-version API.

* ``/admin``: readiness (assessment jobs of an index, the latest report linked) and the
  quality dashboards (``api/dashboard.py`` shapes the answer records; charts are drawn by the
  vendored uPlot). ``/admin/versions``: build / shadow / promote / rollback. These need the
  operator (an admin key of ``security.default_tenant``), like the monitoring API they show.
* ``/admin/keys`` (API keys and users: list, create, revoke), ``/admin/sources`` (list,
  sync): any admin key, for its own tenant. Everything else gets a 403 page
  (``auth.forbidden``).
* ``/v1/admin/versions/{index}`` (+ ``/build``, ``/shadow``, ``/promote``, ``/rollback``): the
  same version operations as ``groundwire versions`` for scripts, operator scope.
Forms post back here with the double-submit CSRF token (``session.form_data``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from groundwire.api.deps import get_app, principal_store, require
from groundwire.api.routes import admin, sources
from groundwire.api.routes.session import error_page, form_data, render, viewer
from groundwire.api.schemas import ErrorResponse
from groundwire.app import Groundwire
from groundwire.errors import Forbidden, GroundwireError, InvalidRequest, NotFound
from groundwire.security.principal import SCOPES, Principal
from groundwire.versions import service as versions

router = APIRouter()
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/v1/admin/versions", tags=["admin"],
                dependencies=[Depends(require("operator"))])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
    404: {"model": ErrorResponse}, 422: {"model": ErrorResponse},
}
STATUS = {NotFound: 404, Forbidden: 403, InvalidRequest: 422}
DASHBOARD_DAYS = 14


def _status(exc: GroundwireError) -> int:
    return next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)


def is_operator(principal: Principal, gw: Groundwire) -> bool:
    return principal.is_admin and principal.tenant == gw.settings.security.default_tenant


async def _admin(request: Request, gw: Groundwire, *, operator: bool = False
                 ) -> Principal | Response:
    """The signed-in admin (operator when asked), else the sign-in redirect or a 403 page."""
    who = await viewer(request, gw)
    if not isinstance(who, Principal):
        return who
    if operator and not is_operator(who, gw):
        return error_page(request, Forbidden(
            "the operator console needs an admin key of the operator tenant "
            f"({gw.settings.security.default_tenant!r})"), 403, who)
    if not who.is_admin:
        return error_page(request, Forbidden("the console needs an admin key"), 403, who)
    return who


# ----------------------------------------------------------------------------- overview
@pages.get("/admin", response_class=HTMLResponse)
async def overview(request: Request, index: str = "default",
                   gw: Groundwire = Depends(get_app)) -> Response:
    from groundwire.api.dashboard import build_dashboard

    who = await _admin(request, gw, operator=True)
    if not isinstance(who, Principal):
        return who
    now = datetime.now(UTC)
    since = now - timedelta(days=DASHBOARD_DAYS)
    monitor = gw.monitor()
    series = {}
    for metric in ("requests", "no_answer_rate", "groundedness", "latency_p50", "latency_p95",
                   "cost_per_answer", "feedback", "negative_feedback_rate"):
        series[metric] = (await monitor.timeseries(metric, bucket="1d", since=since,
                                                   kind="ask"))["points"]
    records = await gw.store.list_records(since=since, kind="ask", limit=5000)
    state = await monitor.state()
    try:
        gaps = await gw.content_gaps(days=DASHBOARD_DAYS)
    except GroundwireError:
        gaps = []
    budget = gw.settings.budgets.default.cost_per_day
    dashboard = build_dashboard(series, records, budget_per_day=budget, since=since, now=now)
    jobs = await _assessments(gw, who)
    return render(request, "admin/overview.html", {
        "dashboard": dashboard, "monitors": state.get("monitors", []),
        "alerts": state.get("open_alerts", []), "gaps": gaps[:10], "jobs": jobs,
        "index": index, "days": DASHBOARD_DAYS,
    }, principal=who)


async def _assessments(gw: Groundwire, who: Principal) -> list[dict[str, Any]]:
    from groundwire.api.routes.assessments import job_out

    try:
        rows = await gw.job_service().list_jobs(tenant=None, kind="assessment", limit=10)
    except GroundwireError:
        return []
    return [job_out(j).model_dump(mode="json") for j in rows]


@pages.post("/admin/assess")
async def start_assessment(request: Request, gw: Groundwire = Depends(get_app)) -> Response:
    who = await _admin(request, gw, operator=True)
    if not isinstance(who, Principal):
        return who
    form = await form_data(request)
    index = str(form.get("index") or "default")
    try:
        await gw.store.generation(index)
        job = await gw.start_assessment(path=None, index=index, questions=None,
                                        tenant=who.tenant, owner=who.name)
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    return RedirectResponse(f"/admin/assessments/{job.id}", status_code=303)


@pages.get("/admin/assessments/{job_id}", response_class=HTMLResponse)
async def assessment_page(job_id: str, request: Request,
                          gw: Groundwire = Depends(get_app)) -> Response:
    from groundwire.api.routes.assessments import job_out

    who = await _admin(request, gw, operator=True)
    if not isinstance(who, Principal):
        return who
    try:
        job = job_out(await gw.assessment(job_id)).model_dump(mode="json")
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    return render(request, "admin/assessment.html", {"job": job}, principal=who)


# ----------------------------------------------------------------------------- versions
@pages.get("/admin/versions", response_class=HTMLResponse)
async def versions_page(request: Request, index: str = "default", job: str | None = None,
                        gw: Groundwire = Depends(get_app)) -> Response:
    """The versions of ``index``; with ``job``, the state of a background build (the page
    refreshes itself until it is done, then shows the built version)."""
    who = await _admin(request, gw, operator=True)
    if not isinstance(who, Principal):
        return who
    try:
        await versions.ensure_first_version(gw, index)
        listing = await versions.list_versions(gw, index)
        build = (await gw.job_service().get(job)) if job else None
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    context: dict[str, Any] = {"listing": listing, "index": index, "result": None, "job": build}
    if build is not None and build.state == "succeeded" and isinstance(build.result, dict):
        context.update(result=build.result, action="build")
    return render(request, "admin/versions.html", context, principal=who)


@pages.post("/admin/versions/{index}/{action}", response_class=HTMLResponse)
async def version_action(index: str, action: str, request: Request,
                         gw: Groundwire = Depends(get_app)) -> Response:
    who = await _admin(request, gw, operator=True)
    if not isinstance(who, Principal):
        return who
    form = await form_data(request)
    number = str(form.get("version") or "").strip()
    if action == "build":  # a build re-indexes everything: a background job, as the CLI's
        try:
            job = await gw.job_service().enqueue(
                "version_build", tenant=who.tenant, owner=who.name,
                params={"index": index, "overrides": {}})
        except GroundwireError as exc:
            return error_page(request, exc, _status(exc), who)
        return RedirectResponse(f"/admin/versions?index={quote(index)}&job={job.id}",
                                status_code=303)
    try:
        result = await _run_version_action(gw, index, action,
                                           int(number) if number.isdigit() else None,
                                           force=form.get("force") == "on")
        listing = await versions.list_versions(gw, index)
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    return render(request, "admin/versions.html", {"listing": listing, "index": index,
                                                   "result": result, "action": action},
                  principal=who)


async def _run_version_action(gw: Groundwire, index: str, action: str, version: int | None,
                              *, force: bool = False) -> dict[str, Any]:
    if action == "build":
        return await versions.build_version(gw, index, {})
    if action == "shadow":
        return await versions.shadow(gw, index, version)
    if action == "promote":
        return await versions.promote(gw, index, version, force=force)
    if action == "rollback":
        return await versions.rollback(gw, index)
    raise NotFound(f"no version action {action!r} (build, shadow, promote, rollback)")


class VersionActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(None, ge=1, description="Default: the newest candidate.")
    force: bool = Field(False, description="promote: flip even when the contract fails.")
    background: bool = Field(False, description="build: queue a job (follow it at "
                             "/v1/jobs/{id}) instead of answering when it is built.")


@api.get("/{index}", responses=ERRORS, summary="Versions of an index: live, previous, each "
         "version's state and counts")
async def list_index_versions(index: str, gw: Groundwire = Depends(get_app)) -> dict[str, Any]:
    await versions.ensure_first_version(gw, index)
    return await versions.list_versions(gw, index)


@api.post("/{index}/{action}", responses=ERRORS,
          summary="build | shadow | promote | rollback a version of an index")
async def index_version_action(index: str, action: str, body: VersionActionBody,
                               gw: Groundwire = Depends(get_app)) -> dict[str, Any]:
    if action == "build" and body.background:
        job = await gw.job_service().enqueue(
            "version_build", tenant=gw.settings.security.default_tenant, owner="api",
            params={"index": index, "overrides": {}})
        return {"job": job.id, "state": job.state, "kind": job.kind}
    return await _run_version_action(gw, index, action, body.version, force=body.force)


# ----------------------------------------------------------------------------- keys/users
@pages.get("/admin/keys", response_class=HTMLResponse)
async def keys_page(request: Request, gw: Groundwire = Depends(get_app)) -> Response:
    who = await _admin(request, gw)
    if not isinstance(who, Principal):
        return who
    return await _keys(request, gw, who)


async def _keys(request: Request, gw: Groundwire, who: Principal, *,
                new_key: Any = None, status: int = 200) -> Response:
    store = principal_store(gw)
    return render(request, "admin/keys.html", {
        "keys": await store.list_keys(who.tenant), "users": await store.list_users(who.tenant),
        "scopes": SCOPES, "new_key": new_key}, principal=who, status=status)


@pages.post("/admin/keys", response_class=HTMLResponse)
async def create_key(request: Request, gw: Groundwire = Depends(get_app)) -> Response:
    """Creates the key and shows its secret once, on this response only."""
    who = await _admin(request, gw)
    if not isinstance(who, Principal):
        return who
    form = await form_data(request)
    try:
        body = admin.KeyBody(user=str(form.get("user") or ""), scopes=form.getlist("scopes"),
                             name=str(form.get("name") or ""),
                             expires_in=str(form.get("expires_in") or "") or None)
        new_key = await admin.create(body, gw, who)
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    except ValueError as exc:  # pydantic: a bad user name, no scope, a bad lifetime
        return error_page(request, InvalidRequest(_first_error(exc)), 422, who)
    return await _keys(request, gw, who, new_key=new_key, status=201)


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first.get('loc', ()))}: {first.get('msg')}"
    return str(exc)


@pages.post("/admin/keys/{key_id}/revoke")
async def revoke_key(key_id: str, request: Request, gw: Groundwire = Depends(get_app)
                     ) -> Response:
    who = await _admin(request, gw)
    if not isinstance(who, Principal):
        return who
    await form_data(request)
    try:
        await admin.revoke(key_id, gw, who)
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    return RedirectResponse("/admin/keys", status_code=303)


@pages.post("/admin/users", response_class=HTMLResponse)
async def create_user(request: Request, gw: Groundwire = Depends(get_app)) -> Response:
    who = await _admin(request, gw)
    if not isinstance(who, Principal):
        return who
    form = await form_data(request)
    try:
        await admin.create_user(admin.NameBody(name=str(form.get("name") or "")), gw, who)
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    except ValueError as exc:
        return error_page(request, InvalidRequest(_first_error(exc)), 422, who)
    return RedirectResponse("/admin/keys", status_code=303)


# ----------------------------------------------------------------------------- sources
@pages.get("/admin/sources", response_class=HTMLResponse)
async def sources_page(request: Request, gw: Groundwire = Depends(get_app)) -> Response:
    who = await _admin(request, gw)
    if not isinstance(who, Principal):
        return who
    listing = await sources.list_sources(gw, who)
    return render(request, "admin/sources.html", {"sources": listing["sources"],
                                                  "result": None}, principal=who)


@pages.post("/admin/sources/{name}/sync", response_class=HTMLResponse)
async def sync_source(name: str, request: Request, gw: Groundwire = Depends(get_app)
                      ) -> Response:
    from groundwire.sources.service import SourceService

    who = await _admin(request, gw)
    if not isinstance(who, Principal):
        return who
    await form_data(request)
    try:
        result = await SourceService(gw).sync(name, who.tenant)
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    listing = await sources.list_sources(gw, who)
    return render(request, "admin/sources.html", {"sources": listing["sources"],
                                                  "result": result, "name": name},
                  principal=who)


# ----------------------------------------------------------------------------- reviews
@pages.get("/admin/reviews", response_class=HTMLResponse)
async def reviews_page(request: Request, gw: Groundwire = Depends(get_app)) -> Response:
    """The review queue of each of this tenant's workflows (events waiting for review)."""
    who = await _admin(request, gw)
    if not isinstance(who, Principal):
        return who
    return await _reviews(request, gw, who)


async def _reviews(request: Request, gw: Groundwire, who: Principal,
                   decided: dict[str, Any] | None = None) -> Response:
    from groundwire.api.routes.workflows import event_out
    from groundwire.workflows.review import ReviewQueue
    from groundwire.workflows.service import WorkflowService

    queue = ReviewQueue(WorkflowService(gw))
    queues = []
    for flow in gw.settings.workflows:
        if flow.tenant == who.tenant:
            rows = await queue.queue(flow.name, tenant=who.tenant, state="review", limit=50)
            queues.append({"name": flow.name,
                           "events": [event_out(r).model_dump(mode="json") for r in rows]})
    return render(request, "admin/reviews.html", {"queues": queues, "decided": decided},
                  principal=who)


@pages.post("/admin/reviews/{event_id}/{decision}", response_class=HTMLResponse)
async def decide_review(event_id: str, decision: str, request: Request,
                        gw: Groundwire = Depends(get_app)) -> Response:
    """approve (with the reply as edited in the form) or reject (with a reason)."""
    from groundwire.workflows.review import ReviewQueue
    from groundwire.workflows.service import WorkflowService

    who = await _admin(request, gw)
    if not isinstance(who, Principal):
        return who
    form = await form_data(request)
    queue = ReviewQueue(WorkflowService(gw))
    try:
        if decision == "approve":
            text = str(form.get("text") or "").strip() or None
            row = await queue.approve(event_id, text, actor=who.name, tenant=who.tenant)
        elif decision == "reject":
            row = await queue.reject(event_id, str(form.get("reason") or ""), actor=who.name,
                                     tenant=who.tenant)
        else:
            raise NotFound(f"no review decision {decision!r} (approve, reject)")
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    return await _reviews(request, gw, who, decided={"id": event_id, "state": row["state"]})


router.include_router(pages)
router.include_router(api)
