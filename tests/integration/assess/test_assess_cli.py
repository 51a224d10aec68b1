"""``groundwire assess`` as a user runs it: the real console script on a planted corpus writes
the JSON and HTML reports, prints the summary, and ``--fail-on`` sets the exit code."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from processes import clean_env, groundwire_exe
from support.planted_corpus import build_planted_corpus

pytestmark = pytest.mark.integration


def _assess(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [groundwire_exe(), "assess", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(COLUMNS="200"),
        timeout=300,
        check=False,
    )


def test_assess_path_writes_json_and_html(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    truth = build_planted_corpus(corpus)
    questions = tmp_path / "queries.jsonl"
    questions.write_text(
        '{"_id": "1", "text": "What does the refund policy state?"}\n', encoding="utf-8"
    )
    out_json, out_html = tmp_path / "report.json", tmp_path / "report.html"

    done = _assess(
        str(corpus),
        "--no-model",
        "--questions",
        str(questions),
        "--json",
        str(out_json),
        "--html",
        str(out_html),
        "--stale-days",
        "5000",
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert report["counts"]["documents"] == truth.documents
    assert report["counts"]["exact_duplicate_documents"] == truth.exact_duplicate_documents
    # --stale-days 5000 (~13.7 years): the planted 2018-2024 dates are all younger.
    assert report["counts"]["stale_documents"] == 0
    assert report["dimensions"]["question_coverage"]["figures"]["questions"] == 1
    html = out_html.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "http://" not in html and "https://" not in html.replace("https://www.w3.org", "")
    assert "Top fixes" in done.stdout and report["verdict"].replace("_", " ") in done.stdout


def test_fail_on_gates_the_exit_code(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    build_planted_corpus(corpus, filler=8)
    gated = _assess(str(corpus), "--no-model", "--fail-on", "warnings", cwd=tmp_path)
    assert gated.returncode == 5, gated.stderr
    bad = _assess(str(corpus), "--no-model", "--fail-on", "sometimes", cwd=tmp_path)
    assert bad.returncode == 2
    neither = _assess("--no-model", cwd=tmp_path)
    assert neither.returncode == 2


def test_json_to_stdout(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "A short note about the river and the stone bridge.", encoding="utf-8"
    )
    done = _assess(str(tmp_path / "a.txt"), "--no-model", "--json", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["documents"] == 1


def test_assess_an_index_from_the_cli(tmp_path: Path, database_url: str) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("---\nacl: [x]\n---\n# Rivers\n\nThe river floods each spring "
                               "and the stone bridge closes for a week.\n", encoding="utf-8")
    (docs / "b.txt").write_text("Mail jane.doe@example.com about the bridge repairs.",
                                encoding="utf-8")
    env = clean_env(GROUNDWIRE_DATABASE_URL=database_url, COLUMNS="200")
    ingest = subprocess.run([groundwire_exe(), "ingest", str(docs), "--index", "docs"],
                            capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=300, check=False)
    assert ingest.returncode == 0, ingest.stderr
    out = tmp_path / "index.json"
    done = subprocess.run(
        [groundwire_exe(), "assess", "--index", "docs", "--no-model", "--json", str(out)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["target"]["index"] == "docs"
    assert report["counts"]["documents"] == 2
    assert report["counts"]["pii_documents"] == 1
    assert report["counts"]["no_acl_documents"] == 1
    missing = subprocess.run([groundwire_exe(), "assess", "--index", "nope", "--no-model"],
                             capture_output=True, text=True, cwd=tmp_path, env=env,
                             timeout=300, check=False)
    assert missing.returncode == 3
