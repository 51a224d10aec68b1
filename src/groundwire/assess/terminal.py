"""The terminal summary of an assessment report (rich)."""

from __future__ import annotations

from typing import Any

_VERDICT_STYLE = {
    "ready": "bold green",
    "ready_with_warnings": "bold yellow",
    "not_ready": "bold red",
}
_SEVERITY_STYLE = {"critical": "red", "warning": "yellow", "info": "cyan"}


def _score_style(score: int) -> str:
    return "green" if score >= 85 else "yellow" if score >= 60 else "red"


def print_summary(report: dict[str, Any], console: Any = None, *, examples: int = 2) -> None:
    """Verdict, score, counts, a table of dimensions (score, summary, worst findings) and the
    top fixes."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    verdict = report["verdict"]
    target = report["target"]
    what = target["path"] if target["kind"] == "path" else f"index {target['index']}"
    console.print(
        f"[bold]Data-readiness assessment[/] of {what}: "
        f"[{_VERDICT_STYLE[verdict]}]{verdict.replace('_', ' ')}[/] "
        f"(score {report['score']}/100, {report['duration_s']:.1f} s)"
    )
    counts = report["counts"]
    console.print("  " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))
    table = Table(show_lines=False, expand=False)
    table.add_column("dimension")
    table.add_column("score", justify="right")
    table.add_column("summary / worst findings", overflow="fold")
    for name, dim in report["dimensions"].items():
        lines = [dim["summary"]]
        for f in dim["findings"][:examples]:
            style = _SEVERITY_STYLE[f["severity"]]
            lines.append(f"[{style}]{f['severity']}[/] {_escape(f['message'])[:160]}")
        table.add_row(name, f"[{_score_style(dim['score'])}]{dim['score']}[/]", "\n".join(lines))
    console.print(table)
    if report["top_fixes"]:
        console.print("[bold]Top fixes[/]")
        for n, fix in enumerate(report["top_fixes"], 1):
            console.print(f"  {n}. {_escape(fix)}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
