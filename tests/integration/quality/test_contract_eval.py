"""The success contract on real PostgreSQL: targets checked per eval set, a target without
evidence is a miss, reports kept in the history and compared; the CLI exits 5 on a miss."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from processes import clean_env, groundwire_exe

from groundwire.bootstrap import build_app
from groundwire.embedding.fake import FakeEmbedder
from groundwire.quality.contract import compare_reports, list_reports, load_report, run_contract

pytestmark = pytest.mark.integration
GOLDEN = Path(__file__).parents[2] / "data" / "golden"


def _golden_with_unanswerable(tmp_path: Path) -> Path:
    root = tmp_path / "golden-u"
    shutil.copytree(GOLDEN, root)
    (root / "unanswerable.jsonl").write_text(
        '{"id": "u1", "text": "zorblax quintessa framistat velocity"}\n'
        '{"id": "u2", "text": "who won the grumblefrotz cup of vexillia"}\n')
    return root


async def test_contract_checks_each_target_and_keeps_history(
    make_settings: Any, tmp_path: Path
) -> None:
    root = _golden_with_unanswerable(tmp_path)
    settings = make_settings(contract={
        "eval_sets": [str(root), str(GOLDEN)],  # the second set has no unanswerable questions
        "targets": {"ndcg@10": {"min": 0.5}, "recall@100": {"min": 0.9},
                    "ask_p95_ms": {"max": 60000}, "cost_per_answer": {"max": 0.0},
                    "answer_rate": {"min": 0.0}, "abstention_rate": {"min": 0.0}},
    })
    async with build_app(settings, embedder=FakeEmbedder()) as gw:
        good = await run_contract(gw.engine, label="v1")
        strict = settings.model_copy(update={"contract": settings.contract.model_copy(update={
            "targets": {**settings.contract.targets,
                        "ndcg@10": type(settings.contract.targets["ndcg@10"])(min=1.01),
                        "groundedness": type(settings.contract.targets["ndcg@10"])(min=0.5)}})})
        bad = await run_contract(gw.engine, settings=strict, label="v2")

    measured, plain = good["sets"]
    assert measured["queries"] == 20 and measured["unanswerable"] == 2
    assert plain["unanswerable"] == 0 and plain["metrics"]["abstention_rate"] is None
    metrics = measured["metrics"]
    assert 0.5 <= metrics["ndcg@10"] <= 1.0 and metrics["abstention_rate"] is not None
    assert metrics["cost_per_answer"] == 0.0  # extractive answers cost nothing
    assert metrics["groundedness"] is None  # only LLM answers carry groundedness
    assert good["passed"] is True
    assert {c["metric"] for c in good["checks"]} == set(settings.contract.targets)
    abstention = {c["set"]: c["status"] for c in good["checks"]
                  if c["metric"] == "abstention_rate"}
    assert abstention == {"golden-u": "pass", "golden": "n/a"}  # measured on the other set

    assert bad["passed"] is False
    by_metric = {c["metric"]: c for c in bad["checks"] if c["set"] == "golden-u"}
    assert by_metric["ndcg@10"]["status"] == "miss"  # below min
    assert by_metric["groundedness"]["value"] is None  # no set has evidence ...
    assert by_metric["groundedness"]["status"] == "no_data"  # ... so it is a miss
    assert by_metric["groundedness"]["passed"] is False
    assert by_metric["recall@100"]["passed"] is True

    # History: both reports saved, found by id, label and 'latest'; compared side by side.
    assert [r["id"] for r in list_reports(settings)] == [good["id"], bad["id"]]
    assert load_report(settings, "latest")["id"] == bad["id"]
    assert load_report(settings, "v1")["id"] == good["id"]
    cmp = compare_reports(load_report(settings, "v1"), load_report(settings, "v2"))
    row = next(r for r in cmp["rows"] if r["metric"] == "ndcg@10" and r["set"] == "golden-u")
    assert row["a"] == row["b"] == metrics["ndcg@10"] and row["delta"] == 0
    assert row["a_passed"] is True and row["b_passed"] is False


def test_cli_contract_exit_codes_and_compare(database_url: str, tmp_path: Path) -> None:
    root = _golden_with_unanswerable(tmp_path)
    config = tmp_path / "groundwire.toml"

    def write(min_ndcg: float) -> None:
        config.write_text(
            f'data_dir = "{tmp_path / "data"}"\n'
            '[embedding]\nprovider = "fake"\n'
            f'[contract]\neval_sets = ["{root.name}"]\n'  # relative to the config file
            f'[contract.targets]\n"ndcg@10" = {{min = {min_ndcg}}}\n')

    env = clean_env(GROUNDWIRE_DATABASE_URL=database_url)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([groundwire_exe(), *args, "-c", str(config)], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)

    write(0.3)
    passed = cli("eval", "--contract", "--json")
    assert passed.returncode == 0, passed.stderr
    first = json.loads(passed.stdout)
    assert first["passed"] is True

    write(1.01)
    missed = cli("eval", "--contract")
    assert missed.returncode == 5, missed.stderr
    assert "MISS" in missed.stdout and "FAILED" in missed.stdout

    cmp = cli("eval", "--compare", first["id"], "latest", "--json")
    assert cmp.returncode == 0, cmp.stderr
    data = json.loads(cmp.stdout)
    assert data["a"]["passed"] is True and data["b"]["passed"] is False

    unknown = cli("eval", "--compare", "nope", "latest")
    assert unknown.returncode == 3
