"""``groundwire versions``: build a candidate beside the live version, promote it when the
success contract passes, roll back, list, shadow. See ``groundwire/versions/service.py``.

``promote`` exits 5 (``CONTRACT_MISS_EXIT``) when the contract refuses the candidate."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from groundwire.cli.options import ConfigOpt, IndexOpt, JsonOpt
from groundwire.cli.output import CONTRACT_MISS_EXIT, emit, run_with_app

versions_app = typer.Typer(help="Versioned configurations: build, promote, rollback.",
                           no_args_is_help=True)


@versions_app.command("build")
def versions_build(
    index: IndexOpt = "default",
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Setting override KEY=VALUE (repeatable), e.g. chunking.max_tokens=120, "
        "embedding.model=..., retrieval.dense_weight=0.7.")] = None,
    background: Annotated[bool, typer.Option(
        "--background", help="Queue the build as a background job (run by `groundwire "
        "worker` or a server's worker) and print the job; follow it with GET /v1/jobs/{id}."
    )] = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Re-ingest the live version's sources into a new physical index with the overrides;
    the live version keeps serving."""
    from groundwire.versions.service import build_version, parse_overrides

    overrides = parse_overrides(set_)

    async def work(gw: Any) -> Any:
        if background:
            job = await gw.job_service().enqueue(
                "version_build", tenant=gw.settings.security.default_tenant, owner="cli",
                params={"index": index, "overrides": overrides})
            return {"job": job.id, "state": job.state, "kind": job.kind}
        return await build_version(gw, index, overrides)

    result = run_with_app(config, as_json, work)
    if background:
        if as_json:
            emit(result)
        else:
            typer.echo(f"queued version build of {index}: job {result['job']}")
        return
    if as_json:
        emit(result)
        return
    embedded = sum(r["chunks_embedded"] for r in result["ingest"])
    reused = sum(r["chunks_reused"] for r in result["ingest"])
    typer.echo(f"built {index} v{result['version']} ({result['physical']}, config "
               f"{result['fingerprint']}): embedded {embedded} chunks, reused {reused}")


@versions_app.command("promote")
def versions_promote(
    index: IndexOpt = "default",
    version: Annotated[int | None, typer.Option(help="Version to promote (default: the "
                                                "latest ready one).")] = None,
    force: Annotated[bool, typer.Option(help="Promote even when the contract fails.")] = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Check the success contract on a candidate and make it live (one transaction) if it
    passes; refused (exit 5) otherwise unless --force."""
    from groundwire.quality.contract import format_report
    from groundwire.versions.service import promote

    async def work(gw: Any) -> Any:
        return await promote(gw, index, version, force=force, progress=sys.stderr)

    result = run_with_app(config, as_json, work)
    if as_json:
        emit(result)
    else:
        typer.echo(format_report(result["report"]))
        verdict = ("promoted" + (" (forced)" if result["forced"] else "")
                   if result["promoted"] else "NOT promoted")
        typer.echo(f"{index} v{result['version']} ({result['physical']}): {verdict}")
    if not result["promoted"]:
        raise typer.Exit(CONTRACT_MISS_EXIT)


@versions_app.command("rollback")
def versions_rollback(index: IndexOpt = "default", as_json: JsonOpt = False,
                      config: ConfigOpt = None) -> None:
    """Point the index back at the version that was live before the last promote."""
    from groundwire.versions.service import rollback

    async def work(gw: Any) -> Any:
        return await rollback(gw, index)

    result = run_with_app(config, as_json, work)
    if as_json:
        emit(result)
    else:
        typer.echo(f"{index} -> {result['physical']} (was {result['rolled_back_from']})")


@versions_app.command("list")
def versions_list(index: IndexOpt = "default", as_json: JsonOpt = False,
                  config: ConfigOpt = None) -> None:
    """Versions of an index with their state, configuration fingerprint and contract."""
    from groundwire.versions.service import list_versions

    async def work(gw: Any) -> Any:
        return await list_versions(gw, index)

    result = run_with_app(config, as_json, work)
    if as_json:
        emit(result)
        return
    for v in result["versions"]:
        live = "*" if v["physical"] == result["live"] else " "
        contract = v.get("contract") or {}
        typer.echo(f"{live} v{v['version']:<3} {v['physical']:<24} {v['state']:<8} "
                   f"{v['fingerprint']}  chunks {v.get('chunks', '-')}  contract "
                   f"{'-' if not contract else ('pass' if contract['passed'] else 'FAIL')}  "
                   f"{v['overrides'] or ''}")


@versions_app.command("shadow")
def versions_shadow(
    index: IndexOpt = "default",
    version: Annotated[int | None, typer.Option(help="Candidate version (default: the "
                                                "latest not live).")] = None,
    sample: Annotated[int, typer.Option(help="Recent live questions replayed.")] = 50,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Replay a sample of recent live questions on the live version and a candidate; report
    where their top results differ."""
    from groundwire.versions.service import shadow

    async def work(gw: Any) -> Any:
        return await shadow(gw, index, version, sample=sample)

    result = run_with_app(config, as_json, work)
    if as_json:
        emit(result)
        return
    typer.echo(f"{result['questions']} questions: same top-1 {result['same_top1_rate']}, "
               f"mean top-10 overlap {result['mean_overlap']}")
    for d in result["differences"][:20]:
        typer.echo(f"  {d['question'][:60]!r}: live {d['live'][:1]} candidate "
                   f"{d['candidate'][:1]} overlap {d['overlap']}")
