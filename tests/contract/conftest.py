"""The store contract suites' fixtures: ``store`` is every store implementation in turn,
opened on a fresh empty database.

One suite per port (``test_<port group>_contract.py``) asserts the contracts written in the
port's docstring (``groundwire/stores/ports/``). A new implementation is added to
``IMPLEMENTATIONS`` and every suite runs against it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from groundwire.stores.base import Store


def _postgres(database_url: str) -> Store:
    from groundwire.stores.postgres.store import PostgresStore

    return PostgresStore(database_url, pool_max=4)


IMPLEMENTATIONS: dict[str, Callable[[str], Store]] = {"postgres": _postgres}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
async def store(request: Any, database_url: str) -> AsyncIterator[Store]:
    impl = IMPLEMENTATIONS[request.param](database_url)
    await impl.open()
    try:
        yield impl
    finally:
        await impl.close()


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def unopened_store(request: Any, database_url: str) -> Store:
    """A store constructed on a reachable database and not opened yet."""
    return IMPLEMENTATIONS[request.param](database_url)


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def unreachable_store(request: Any, database_url: str) -> Store:
    """A store whose database does not answer (a closed port)."""
    url = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2"
    return IMPLEMENTATIONS[request.param](url)
