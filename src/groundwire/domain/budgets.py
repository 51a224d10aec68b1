"""``BudgetScopes``: every budget one answer is charged to.

A request is checked against, and its usage added to, each scope that applies to it:

* the principal ``<tenant>/<user>`` (always; ``budgets.default`` / ``budgets.principals``),
* the API key it was made with, counted as ``key:<key id>`` (``budgets.api_keys``; the public
  key id from ``groundwire keys list``, never the secret),
* the workflow it drafts for, counted as ``workflow:<name>`` (``budgets.workflows``).

The edges (REST, chat completions, conversations, MCP, workflows) build the value; it travels
unchanged through the application and engine to the answer service (``llm/budgets.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

KEY_PREFIX = "key:"
WORKFLOW_PREFIX = "workflow:"


@dataclass(frozen=True, slots=True)
class BudgetScopes:
    principal: str
    key_id: str | None = None
    workflow: str | None = None

    def scopes(self) -> tuple[tuple[str, str, str], ...]:
        """``(kind, name, usage-counter name)`` of every scope, principal first."""
        found = [("principal", self.principal, self.principal)]
        if self.key_id:
            found.append(("key", self.key_id, KEY_PREFIX + self.key_id))
        if self.workflow:
            found.append(("workflow", self.workflow, WORKFLOW_PREFIX + self.workflow))
        return tuple(found)


def scope_kind(counter: str) -> tuple[str, str]:
    """``(kind, name)`` of a usage-counter name: ``("key", id)``, ``("workflow", name)`` or
    ``("principal", counter)`` (principal names are ``<tenant>/<user>``, never prefixed)."""
    for kind, prefix in (("key", KEY_PREFIX), ("workflow", WORKFLOW_PREFIX)):
        if counter.startswith(prefix):
            return kind, counter[len(prefix):]
    return "principal", counter
