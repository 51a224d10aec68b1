"""The success contract: measure the eval sets, check every target, keep the history.

``run_contract(engine)`` evaluates each of ``settings.contract.eval_sets`` against ``engine``
(its settings decide chunking, model, fusion, prompt and LLM: the *version* under test) and
returns a report::

    {id, created_at, label, index, fingerprint, config, passed,
     sets: [{name, path, index, queries, unanswerable, answered, metrics, ingest}],
     checks: [{set, metric, min, max, value, passed}]}

Metrics per set (``CONTRACT_METRICS``): document-level retrieval metrics over the labelled
questions (ndcg@10, recall@10/100, mrr@10, hit@1/5, at depth ``EVAL_DEPTH``); through the full
answer flow (``AnswerService.ask``, up to ``contract.answer_limit`` questions, not recorded as
answer records): ``citation_precision`` (share of cited passages from a relevant document, over
answers with citations), ``groundedness`` (mean over answers that carry one: LLM answers),
``answer_rate`` (labelled questions answered rather than abstained), ``abstention_rate``
(unanswerable questions abstained), ``ask_p95_ms``, ``cost_per_answer`` (mean, 0 when no LLM
cost); and ``search_p95_ms`` of the retrieval calls. A metric that could not be measured is
``None``; a target no set could measure is a miss (a contract never passes on missing
evidence), a set that cannot measure a metric another set measured is ``n/a`` for it.

Reports are written to ``<data_dir>/eval_history/<id>.json`` (``contract.history``);
``load_report`` finds one by id, id prefix, ``latest``/``previous``, version label or
fingerprint, and ``compare_reports`` puts two side by side.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from groundwire.domain import SearchRequest
from groundwire.engine import IndexEngine
from groundwire.engine.config import fingerprint, version_tuple
from groundwire.errors import ConfigurationError, NotFound
from groundwire.quality.datasets import Dataset, load_dataset
from groundwire.quality.evaluation import (
    EVAL_DEPTH,
    doc_id_of,
    prepare_index,
    ranked_documents,
)
from groundwire.quality.metrics import percentile, retrieval_metrics
from groundwire.settings import CONTRACT_METRICS, ContractTarget, Settings

ANSWER_TOP_K = 10
LOWER_IS_BETTER = {"search_p95_ms", "ask_p95_ms", "cost_per_answer"}


def eval_set_paths(settings: Settings) -> list[Path]:
    """``contract.eval_sets`` with relative paths resolved against the config file's folder."""
    base = settings.config_file.parent if settings.config_file else Path.cwd()
    return [(p if p.is_absolute() else base / p).expanduser() for p in settings.contract.eval_sets]


async def measure_set(
    engine: IndexEngine, dataset: Dataset, *, index: str | None, answer_limit: int,
    progress: IO[str] | None = None,
) -> dict[str, Any]:
    """Every contract metric of one eval set (see the module docstring)."""
    name, ingest_info = await prepare_index(engine, dataset, index, progress)
    labelled = [q for q in dataset.queries if q in dataset.qrels]
    totals: dict[str, float] = {}
    search_ms: list[float] = []
    ask_ms: list[float] = []
    precisions: list[float] = []
    grounded: list[float] = []
    costs: list[float] = []
    answered = asked = 0
    for i, qid in enumerate(labelled):
        query = dataset.queries[qid]
        t0 = time.perf_counter()
        hits, _ = await engine.retriever.search_with_timings(
            SearchRequest(query=query, index=name, top_k=EVAL_DEPTH))
        search_ms.append((time.perf_counter() - t0) * 1000)
        for key, value in retrieval_metrics(ranked_documents(hits), dataset.qrels[qid]).items():
            totals[key] = totals.get(key, 0.0) + value
        if asked < answer_limit:
            asked += 1
            answer, ms = await _ask(engine, query, name)
            ask_ms.append(ms)
            costs.append(answer.cost or 0.0)
            if not answer.abstained:
                answered += 1
                if answer.groundedness is not None:
                    grounded.append(answer.groundedness)
                if answer.citations:
                    relevant = dataset.qrels[qid]
                    good = sum(1 for c in answer.citations if doc_id_of(c.hit.uri) in relevant)
                    precisions.append(good / len(answer.citations))
        if progress and (i + 1) % 100 == 0:
            print(f"  {i + 1}/{len(labelled)} questions", file=progress)
    abstained = 0
    unanswerable = list(dataset.unanswerable.items())[:answer_limit]
    for _, query in unanswerable:
        answer, ms = await _ask(engine, query, name)
        ask_ms.append(ms)
        costs.append(answer.cost or 0.0)
        abstained += answer.abstained
    n = len(labelled)
    metrics: dict[str, float | None] = {k: None for k in CONTRACT_METRICS}
    if n:
        metrics.update({k: round(v / n, 4) for k, v in totals.items()})
        metrics["search_p95_ms"] = round(percentile(search_ms, 0.95), 2)
    metrics["answer_rate"] = round(answered / asked, 4) if asked else None
    metrics["citation_precision"] = _mean(precisions)
    metrics["groundedness"] = _mean(grounded)
    metrics["abstention_rate"] = round(abstained / len(unanswerable), 4) if unanswerable else None
    metrics["ask_p95_ms"] = round(percentile(ask_ms, 0.95), 2) if ask_ms else None
    metrics["cost_per_answer"] = round(sum(costs) / len(costs), 6) if costs else None
    return {
        "name": dataset.root.name, "path": str(dataset.root), "index": name,
        "queries": n, "unanswerable": len(unanswerable), "answered": asked,
        "metrics": metrics, "ingest": ingest_info,
    }


async def _ask(engine: IndexEngine, query: str, index: str) -> tuple[Any, float]:
    """The full answer flow without an answer record (eval traffic is not user traffic)."""
    t0 = time.perf_counter()
    answer = await engine.answers.ask(SearchRequest(query=query, index=index, top_k=ANSWER_TOP_K))
    return answer, (time.perf_counter() - t0) * 1000


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def check_targets(
    set_name: str, metrics: dict[str, float | None], targets: dict[str, ContractTarget]
) -> list[dict[str, Any]]:
    """One check per target: ``pass`` when measured and within [min, max], ``miss`` when
    outside, ``no_data`` when not measured (``finalize_checks`` turns that into ``n/a`` when
    another set measured the metric)."""
    checks = []
    for metric, target in targets.items():
        value = metrics.get(metric)
        if value is None:
            status = "no_data"
        elif (target.min is None or value >= target.min) and (
                target.max is None or value <= target.max):
            status = "pass"
        else:
            status = "miss"
        checks.append({"set": set_name, "metric": metric, "min": target.min, "max": target.max,
                       "value": value, "status": status, "passed": status == "pass"})
    return checks


def finalize_checks(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A set that cannot measure a metric (e.g. abstention without unanswerable questions) is
    ``n/a`` (not a miss) when some other set measured it; a target no set measured stays
    ``no_data``, a miss: a contract never passes on missing evidence."""
    measured = {c["metric"] for c in checks if c["status"] != "no_data"}
    for c in checks:
        if c["status"] == "no_data" and c["metric"] in measured:
            c["status"], c["passed"] = "n/a", True
    return checks


async def run_contract(
    engine: IndexEngine, *, index: str | None = None, label: str | None = None,
    settings: Settings | None = None, save: bool | None = None,
    progress: IO[str] | None = None,
) -> dict[str, Any]:
    """Check the contract of ``settings`` (default ``engine.settings``) against ``engine``.

    ``index`` overrides ``contract.index`` (a physical index: a candidate version);
    ``label`` names the version in the report. Raises ConfigurationError without eval sets or
    targets. Saves the report to the history unless ``save`` is False (default:
    ``contract.history``)."""
    settings = settings or engine.settings
    contract = settings.contract
    paths = eval_set_paths(settings)
    if not paths:
        raise ConfigurationError("contract.eval_sets is empty: name at least one eval set")
    if not contract.targets:
        raise ConfigurationError("contract.targets is empty: a contract needs targets")
    target_index = index or contract.index
    sets, checks = [], []
    for path in paths:
        dataset = load_dataset(path, contract.split, need_corpus=False)
        measured = await measure_set(
            engine, dataset, index=target_index if dataset.corpus is None else None,
            answer_limit=contract.answer_limit, progress=progress)
        sets.append(measured)
        checks.extend(check_targets(measured["name"], measured["metrics"], contract.targets))
    checks = finalize_checks(checks)
    config = version_tuple(settings, target_index)
    now = datetime.now(UTC)
    report = {
        "id": f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}",
        "created_at": now.isoformat(),
        "label": label,
        "index": target_index,
        "fingerprint": fingerprint(config),
        "config": config,
        "passed": all(c["passed"] for c in checks),
        "sets": sets,
        "checks": checks,
    }
    if contract.history if save is None else save:
        save_report(settings, report)
    return report


# ---------------------------------------------------------------------------- history
def history_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "eval_history"


def save_report(settings: Settings, report: dict[str, Any]) -> Path:
    folder = history_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{report['id']}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


def list_reports(settings: Settings) -> list[dict[str, Any]]:
    """Saved reports, oldest first."""
    folder = history_dir(settings)
    if not folder.is_dir():
        return []
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")]
    return sorted(reports, key=lambda r: (r["created_at"], r["id"]))


def load_report(settings: Settings, ref: str) -> dict[str, Any]:
    """A saved report by id, ``latest``, ``previous``, version label (its latest report),
    fingerprint or unique id prefix; NotFound otherwise."""
    reports = list_reports(settings)
    if not reports:
        raise NotFound(f"no eval history in {history_dir(settings)}")
    if ref == "latest":
        return reports[-1]
    if ref == "previous":
        if len(reports) < 2:
            raise NotFound("the eval history has only one report")
        return reports[-2]
    for matches in (
        [r for r in reports if r["id"] == ref],
        [r for r in reports if r.get("label") == ref],
        [r for r in reports if r.get("fingerprint") == ref],
    ):
        if matches:
            return matches[-1]
    prefixed = [r for r in reports if r["id"].startswith(ref)]
    if len(prefixed) == 1:
        return prefixed[0]
    if prefixed:
        raise NotFound(f"{ref!r} matches {len(prefixed)} reports; give more of the id")
    raise NotFound(f"no eval report, version label or fingerprint {ref!r}")


def compare_reports(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two reports side by side: per set and metric, both values, the delta (b - a), whether
    b is better, and each side's target check where there was one."""
    def by_key(report: dict[str, Any]) -> dict[tuple[str, str], Any]:
        return {(s["name"], m): v for s in report["sets"] for m, v in s["metrics"].items()}

    def checks(report: dict[str, Any]) -> dict[tuple[str, str], bool]:
        return {(c["set"], c["metric"]): c["passed"] for c in report["checks"]}

    va, vb, ca, cb = by_key(a), by_key(b), checks(a), checks(b)
    rows = []
    for key in sorted(set(va) | set(vb)):
        x, y = va.get(key), vb.get(key)
        if x is None and y is None:
            continue
        delta = None if x is None or y is None else round(y - x, 6)
        better = None
        if delta is not None and delta != 0:
            better = (delta < 0) if key[1] in LOWER_IS_BETTER else (delta > 0)
        rows.append({"set": key[0], "metric": key[1], "a": x, "b": y, "delta": delta,
                     "b_better": better, "a_passed": ca.get(key), "b_passed": cb.get(key)})
    changed = sorted(k for k in set(a["config"]) | set(b["config"])
                     if a["config"].get(k) != b["config"].get(k))
    side = ("id", "label", "created_at", "fingerprint", "index", "passed")
    return {"a": {k: a.get(k) for k in side}, "b": {k: b.get(k) for k in side},
            "config_changed": changed, "rows": rows}


# ---------------------------------------------------------------------------- text
def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_report(report: dict[str, Any]) -> str:
    """The pass/fail table of a contract report."""
    head = (f"contract {'PASSED' if report['passed'] else 'FAILED'}  report {report['id']}"
            f"  index {report['index']}  config {report['fingerprint']}")
    if report.get("label"):
        head += f"  version {report['label']}"
    lines = [head, f"{'set':<20} {'metric':<20} {'target':<14} {'value':<10} result"]
    for c in report["checks"]:
        target = " ".join(p for p in (f">= {_fmt(c['min'])}" if c["min"] is not None else "",
                                       f"<= {_fmt(c['max'])}" if c["max"] is not None else "")
                          if p)
        result = {"pass": "pass", "miss": "MISS", "no_data": "MISS (no data)",
                  "n/a": "n/a (not measurable on this set)"}[c["status"]]
        lines.append(f"{c['set'][:20]:<20} {c['metric']:<20} {target:<14} "
                     f"{_fmt(c['value']):<10} {result}")
    return "\n".join(lines)


def format_comparison(cmp: dict[str, Any]) -> str:
    a, b = cmp["a"], cmp["b"]
    lines = [f"A {a['id']} ({a.get('label') or a['fingerprint']}, "
             f"{'passed' if a['passed'] else 'failed'})",
             f"B {b['id']} ({b.get('label') or b['fingerprint']}, "
             f"{'passed' if b['passed'] else 'failed'})"]
    if cmp["config_changed"]:
        lines.append("config changed: " + ", ".join(cmp["config_changed"]))
    lines.append(f"{'set':<20} {'metric':<20} {'A':<10} {'B':<10} {'delta':<10}")
    for r in cmp["rows"]:
        mark = {True: " better", False: " worse", None: ""}[r["b_better"]]
        lines.append(f"{r['set'][:20]:<20} {r['metric']:<20} {_fmt(r['a']):<10} "
                     f"{_fmt(r['b']):<10} {_fmt(r['delta']):<10}{mark}")
    return "\n".join(lines)
