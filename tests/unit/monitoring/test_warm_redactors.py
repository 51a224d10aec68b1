"""``Groundwire.warm`` builds the PII redactors of the answer records and the audit log
before the server reports ready (issue 23: building Presidio's recognizers on the first
record write cost seconds of CPU while the server already answered)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from groundwire.app import Groundwire
from groundwire.monitoring import service as monitoring_service
from groundwire.monitoring.service import MonitoringService
from groundwire.security import audit as audit_module
from groundwire.security.audit import AuditLog
from groundwire.settings import MonitoringSettings


class Factory:
    """Stands in for a module's ``_default_redactor``: counts builds and calls."""

    def __init__(self) -> None:
        self.built = 0
        self.calls: list[str] = []

    def __call__(self) -> Any:
        self.built += 1

        def redact(text: str) -> str:
            self.calls.append(text)
            return text.upper()

        return redact


async def _nothing() -> None:
    return None


async def _insert(*_: Any) -> None:
    raise AssertionError("nothing is written")


def _monitoring(records: bool = True, redact: Any = None) -> MonitoringService:
    return MonitoringService(SimpleNamespace(insert_records=_insert),  # type: ignore[arg-type]
                             MonitoringSettings(records=records), embedding_model="fake-32",
                             redact=redact)


@pytest.fixture
def factories(monkeypatch: pytest.MonkeyPatch) -> tuple[Factory, Factory]:
    records, audit = Factory(), Factory()
    monkeypatch.setattr(monitoring_service, "_default_redactor", records)
    monkeypatch.setattr(audit_module, "_default_redactor", audit)
    return records, audit


async def test_warm_builds_both_redactors_once_before_any_write(
    factories: tuple[Factory, Factory],
) -> None:
    records, audit = factories
    monitoring, audit_log = _monitoring(), AuditLog(_insert)
    app = SimpleNamespace(engine=SimpleNamespace(warm=_nothing), monitoring=monitoring,
                          audit=audit_log)
    await Groundwire.warm(app)  # type: ignore[arg-type]
    assert (records.built, audit.built) == (1, 1)
    assert len(records.calls) == 1 and len(audit.calls) == 1  # run once: lazy parts built
    # the first real write reuses what warm built
    assert monitoring._redact("a question") == "A QUESTION"
    assert audit_log._redact("a question") == "A QUESTION"
    assert (records.built, audit.built) == (1, 1)


async def test_warm_without_monitoring_or_audit_builds_nothing(
    factories: tuple[Factory, Factory],
) -> None:
    app = SimpleNamespace(engine=SimpleNamespace(warm=_nothing), monitoring=None, audit=None)
    await Groundwire.warm(app)  # type: ignore[arg-type]
    assert (factories[0].built, factories[1].built) == (0, 0)


def test_records_off_builds_no_redactor(factories: tuple[Factory, Factory]) -> None:
    _monitoring(records=False).warm_redactor()
    assert factories[0].built == 0


def test_an_injected_redactor_is_not_called_by_warm(factories: tuple[Factory, Factory]) -> None:
    seen: list[str] = []
    monitoring = _monitoring(redact=seen.append)
    audit_log = AuditLog(_insert, redact=seen.append)  # type: ignore[arg-type]
    monitoring.warm_redactor()
    audit_log.warm_redactor()
    assert seen == [] and factories[0].built == factories[1].built == 0
