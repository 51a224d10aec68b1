"""Every implementation structurally satisfies every store port.

``isinstance`` against the ``runtime_checkable`` ports checks that each member exists; the
signature comparison checks parameter names, kinds and defaults (mypy checks the types: see
``_satisfies_every_port`` in ``stores/postgres/store.py``). The last test keeps the ports
complete: a public method of an implementation that no port names is a method callers can
only reach around the ports.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol

import pytest

from groundwire.stores import ports
from groundwire.stores.base import Store

pytestmark = pytest.mark.integration


def _members(port: type[Any]) -> set[str]:
    return {name for klass in port.__mro__ if klass not in (object, Protocol)
            for name in vars(klass) if not name.startswith("_")}


def _shape(fn: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("port", ports.PORTS, ids=lambda p: p.__name__)
async def test_implementation_is_an_instance_of_every_port(store: Store, port: type) -> None:
    assert isinstance(store, port)


@pytest.mark.parametrize("port", ports.PORTS, ids=lambda p: p.__name__)
async def test_member_signatures_match_the_port(store: Store, port: type) -> None:
    implementation = type(store)
    for name in sorted(_members(port)):
        declared = inspect.getattr_static(port, name)
        found = inspect.getattr_static(implementation, name)
        if isinstance(declared, property):
            assert isinstance(found, property), f"{port.__name__}.{name} is a property"
            continue
        assert inspect.iscoroutinefunction(found) == inspect.iscoroutinefunction(declared), (
            f"{port.__name__}.{name}: async on one side only")
        assert _shape(found) == _shape(declared), f"{port.__name__}.{name}"


def test_store_combines_every_port() -> None:
    for port in ports.PORTS:
        assert port in Store.__mro__, port.__name__
    assert _members(Store) == set().union(*(_members(p) for p in ports.PORTS))


async def test_every_public_method_of_an_implementation_is_on_a_port(store: Store) -> None:
    declared = set().union(*(_members(p) for p in ports.PORTS))
    public = {name for name, _ in inspect.getmembers(type(store))
              if not name.startswith("_")}
    assert public - declared == set()
