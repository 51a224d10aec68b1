"""``groundwire review``: the review queue of workflows from the command line (an operator's
tool: it acts on the database directly, as ``--as NAME`` of the workflow's tenant).

``list`` shows a workflow's events waiting for review; ``show`` one event; ``claim``,
``edit``, ``approve`` and ``reject`` act on one (see ``groundwire/workflows/review.py``).
Approving queues the signed callback delivery, run by a worker (``groundwire worker`` or a
server's in-process worker)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from groundwire.cli.options import ConfigOpt, JsonOpt
from groundwire.cli.output import emit, run_with_app

review_app = typer.Typer(help="Review queue of workflows: list, claim, edit, approve, reject.",
                         no_args_is_help=True)

ActorOpt = Annotated[str, typer.Option("--as", help="Reviewer name recorded with the "
                                       "decision (as <tenant>/<name>).")]
EventArg = Annotated[str, typer.Argument(help="Event id (from `groundwire review list`).")]


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    event = row["event"]
    return {"id": row["id"], "workflow": row["workflow"], "state": row["state"],
            "subject": event.get("subject", ""), "confidence": row["confidence"],
            "draft": row["draft"], "reply": row["reply"], "claimed_by": row["claimed_by"],
            "decided_by": row["decided_by"], "edit_distance": row["edit_distance"],
            "created_at": row["created_at"]}


def _act(config: Any, as_json: bool, event_id: str, action: str, actor: str,
         **kwargs: Any) -> None:
    async def work(gw: Any) -> Any:
        from groundwire.workflows.review import ReviewQueue
        from groundwire.workflows.service import WorkflowService

        service = WorkflowService(gw)
        row = await service.event(event_id)
        tenant = row["tenant"]
        queue = ReviewQueue(service)
        method = getattr(queue, action)
        return _summary(await method(event_id, actor=f"{tenant}/{actor}", tenant=tenant,
                                     **kwargs))

    result = run_with_app(config, as_json, work)
    if as_json:
        emit(result)
    else:
        typer.echo(f"{result['id']}: {result['state']}"
                   + (f" (claimed by {result['claimed_by']})" if result["claimed_by"] else ""))


@review_app.command("list")
def review_list(
    workflow: Annotated[str, typer.Argument(help="Workflow name.")],
    state: Annotated[str, typer.Option(help="Event state to list ('all' for every one).")]
    = "review",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Events of WORKFLOW waiting for review, newest first."""
    async def work(gw: Any) -> Any:
        from groundwire.workflows.service import WorkflowService

        service = WorkflowService(gw)
        cfg = service.workflow(workflow)
        rows = await gw.store.list_workflow_events(
            cfg.name, state=None if state == "all" else state, limit=limit)
        return [_summary(r) for r in rows]

    rows = run_with_app(config, as_json, work)
    if as_json:
        emit(rows)
        return
    for row in rows:
        confidence = "-" if row["confidence"] is None else f"{row['confidence']:.2f}"
        typer.echo(f"{row['id']}  {row['state']:<10} {confidence:>5}  {row['subject'][:60]}")
    if not rows:
        typer.echo(f"no {state} events in workflow {workflow}")


@review_app.command("show")
def review_show(event_id: EventArg, config: ConfigOpt = None) -> None:
    """One event as JSON: draft, reply, scores, deliveries, decisions."""
    async def work(gw: Any) -> Any:
        from groundwire.workflows.service import WorkflowService

        row = await WorkflowService(gw).event(event_id)
        return {**row, "deliveries": await gw.store.workflow_deliveries(event_id),
                "decisions": await gw.store.workflow_decisions(event_id)}

    emit(run_with_app(config, True, work))


@review_app.command("claim")
def review_claim(event_id: EventArg, actor: ActorOpt = "cli", as_json: JsonOpt = False,
                 config: ConfigOpt = None) -> None:
    """Take an event for review."""
    _act(config, as_json, event_id, "claim", actor)


@review_app.command("edit")
def review_edit(
    event_id: EventArg,
    text: Annotated[str, typer.Option("--text", help="The new reply text.")],
    actor: ActorOpt = "cli", as_json: JsonOpt = False, config: ConfigOpt = None,
) -> None:
    """Replace the reply text (the draft is kept)."""
    _act(config, as_json, event_id, "edit", actor, text=text)


@review_app.command("approve")
def review_approve(
    event_id: EventArg,
    text: Annotated[str | None, typer.Option("--text", help="Final reply (default: the "
                                             "edited reply or the draft).")] = None,
    actor: ActorOpt = "cli", as_json: JsonOpt = False, config: ConfigOpt = None,
) -> None:
    """Approve the reply; a worker sends it through the signed callback."""
    _act(config, as_json, event_id, "approve", actor, text=text)


@review_app.command("reject")
def review_reject(
    event_id: EventArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "",
    actor: ActorOpt = "cli", as_json: JsonOpt = False, config: ConfigOpt = None,
) -> None:
    """Reject the draft: nothing is sent."""
    _act(config, as_json, event_id, "reject", actor, reason=reason)
