"""Prometheus instruments of workflows, on the app's own registry (``telemetry/metrics.py``).

Created on first use per registry (``for_telemetry``), so a process without workflows
exposes none of them; None when metrics are disabled.

* ``groundwire_workflow_events_total{workflow, outcome}``: received, duplicate, delivered,
  review, delivery_failed.
* ``groundwire_workflow_deliveries_total{workflow, outcome}``: callback attempts, ok/failed.
* ``groundwire_workflow_decisions_total{workflow, decision}``: approve, reject (approval
  rate = approve / (approve + reject)).
* ``groundwire_workflow_edit_distance{workflow}``: histogram of the normalized edit distance
  between draft and approved reply.
* ``groundwire_workflow_decision_seconds{workflow}``: histogram of the time from draft to
  review decision.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

from groundwire.telemetry import Telemetry

_ATTRIBUTE = "_groundwire_workflow_metrics"
EDIT_BUCKETS = (0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
DECISION_BUCKETS = (1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600)


class WorkflowMetrics:
    def __init__(self, registry: Any) -> None:
        self.events = Counter("groundwire_workflow_events", "Workflow events by outcome.",
                              ["workflow", "outcome"], registry=registry)
        self.deliveries = Counter("groundwire_workflow_deliveries",
                                  "Callback delivery attempts by outcome (ok, failed).",
                                  ["workflow", "outcome"], registry=registry)
        self.decisions = Counter("groundwire_workflow_decisions",
                                 "Review decisions (approve, reject).",
                                 ["workflow", "decision"], registry=registry)
        self.edit_distance = Histogram(
            "groundwire_workflow_edit_distance",
            "Normalized word edit distance between a draft and the reply a reviewer approved.",
            ["workflow"], registry=registry, buckets=EDIT_BUCKETS)
        self.decision_seconds = Histogram(
            "groundwire_workflow_decision_seconds",
            "Seconds from a draft to its review decision.", ["workflow"], registry=registry,
            buckets=DECISION_BUCKETS)

    @classmethod
    def for_telemetry(cls, telemetry: Telemetry) -> WorkflowMetrics | None:
        """The instruments on ``telemetry``'s registry (made once, kept on its ``Metrics``)."""
        metrics = telemetry.metrics
        if metrics is None:
            return None
        found: WorkflowMetrics | None = getattr(metrics, _ATTRIBUTE, None)
        if found is None:
            found = cls(metrics.registry)
            setattr(metrics, _ATTRIBUTE, found)
        return found
