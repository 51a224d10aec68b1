"""``groundwire search`` (hybrid search) and ``groundwire ask`` (a cited answer or an
abstention). Registered in ``cli/main.py``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from groundwire.cli.options import (
    ConfigOpt,
    IndexOpt,
    JsonOpt,
    MetaOpt,
    UriPrefixOpt,
    search_filters,
)
from groundwire.cli.output import emit, run_with_app


def _hit_json(hit: Any) -> dict[str, Any]:
    return {
        "uri": hit.uri, "title": hit.title, "text": hit.text, "score": round(hit.score, 6),
        "heading_path": list(hit.heading_path), "char_start": hit.char_start,
        "char_end": hit.char_end,
    }


def search(
    query: Annotated[str, typer.Argument(help="Search query.")],
    index: IndexOpt = "default",
    top_k: Annotated[int, typer.Option("--top-k", "-k", help="Number of hits.")] = 10,
    uri_prefix: UriPrefixOpt = None,
    meta: MetaOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Hybrid (BM25 + dense) search over an index."""
    from groundwire.domain import SearchRequest

    filters = search_filters(uri_prefix, meta)

    async def work(gw: Any) -> Any:
        return await gw.search(
            SearchRequest(query=query, index=index, top_k=top_k, filters=filters)
        )

    hits, _ = run_with_app(config, as_json, work)
    if as_json:
        emit({"hits": [_hit_json(h) for h in hits]})
        return
    for n, hit in enumerate(hits, 1):
        where = " › ".join(hit.heading_path)
        suffix = f" › {where}" if where else ""
        typer.echo(f"{n:>2}. {hit.score:.4f}  {hit.uri}  {hit.title}{suffix}")
        typer.echo(f"    {hit.text[:200]}")


def ask(
    question: Annotated[str, typer.Argument(help="Question in natural language.")],
    index: IndexOpt = "default",
    uri_prefix: UriPrefixOpt = None,
    meta: MetaOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Answer a question from the index with inline [n] citations (or abstain)."""
    from groundwire.domain import SearchRequest

    filters = search_filters(uri_prefix, meta)

    async def work(gw: Any) -> Any:
        return await gw.ask(SearchRequest(query=question, index=index, top_k=10, filters=filters))

    answer = run_with_app(config, as_json, work)
    citations = [
        {"n": c.n, "uri": c.hit.uri, "title": c.hit.title, "text": c.hit.text, "quote": c.quote,
         "heading_path": list(c.hit.heading_path), "char_start": c.hit.char_start,
         "char_end": c.hit.char_end, "support": c.support}
        for c in answer.citations
    ]
    if as_json:
        emit({"answer": answer.text, "abstained": answer.abstained,
               "confidence": answer.confidence, "citations": citations,
               "answerer": answer.answerer, "degraded": answer.degraded,
               "degraded_reason": answer.degraded_reason, "provider": answer.provider,
               "model": answer.model, "groundedness": answer.groundedness,
               "usage": dict(answer.usage) if answer.usage else None, "cost": answer.cost,
               "prompt_id": answer.prompt_id,
               "attempts": [dict(a) for a in answer.attempts]})
        return
    typer.echo(answer.text)
    for c in citations:
        typer.echo(f"  [{c['n']}] {c['uri']}  {c['title']}")
    if answer.degraded:
        typer.echo(f"(degraded: extractive answer, {answer.degraded_reason})", err=True)
    elif answer.provider:
        typer.echo(f"(answered by {answer.provider}, groundedness {answer.groundedness})",
                   err=True)
