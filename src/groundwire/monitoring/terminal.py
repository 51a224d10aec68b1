"""``groundwire monitor`` output: monitors per index, open alerts, content gaps (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

_STYLE = {"firing": "bold red", "ok": "green", "no_data": "dim"}


def print_state(state: dict[str, Any], console: Console) -> None:
    records = state.get("records", {})
    console.print(
        f"[bold]Groundwire monitor[/bold]  window {state.get('window_minutes')} min  "
        f"records written {records.get('written', 0)}, dropped {records.get('dropped', 0)}"
    )
    table = Table("index", "monitor", "status", "value", "threshold", "samples")
    for m in state.get("monitors", []):
        status = m["status"]
        table.add_row(m["index"], m["name"], f"[{_STYLE.get(status, '')}]{status}[/]",
                      "" if m["value"] is None else f"{m['value']:.4g}",
                      "" if m["threshold"] is None else f"{m['threshold']:.4g}",
                      str(m["samples"]))
    if not state.get("monitors"):
        console.print("no answer records yet")
    else:
        console.print(table)
    alerts = state.get("open_alerts", [])
    console.print(f"[bold]Open alerts[/bold]: {len(alerts)}")
    for a in alerts:
        console.print(f"  [red]{a['index']}:{a['monitor']}[/red] since {a['created_at']}  "
                      f"{a['message']}")
    gaps = state.get("gaps", [])
    if gaps:
        console.print(f"[bold]Content gaps[/bold]: {len(gaps)} clusters")
        for g in gaps[:10]:
            docs = ", ".join(d["uri"] for d in g.get("closest_documents", [])) or "-"
            console.print(f"  {g['index']}  {g['size']} questions, e.g. "
                          f"{g['examples'][0]!r}  (closest: {docs})")
