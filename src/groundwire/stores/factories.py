"""Built-in store factories, entry points of the ``groundwire.stores`` group (see
``groundwire.registry``): ``(settings: Settings) -> Store``; building does no I/O
(``open()`` connects, starting the embedded server when there is no ``database_url``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from groundwire.settings import Settings
    from groundwire.stores.base import Store


def postgres(settings: Settings) -> Store:
    """``postgres``: PostgreSQL at ``database_url``, else the embedded server (started in
    ``open()``) under ``data_dir``."""
    from groundwire.stores.postgres.embedded import EmbeddedPostgres
    from groundwire.stores.postgres.store import PostgresStore

    url = settings.database_url.get_secret_value() if settings.database_url else None
    return PostgresStore(
        url or EmbeddedPostgres(settings.data_dir),
        pool_min=settings.database.pool_min,
        pool_max=settings.database.pool_max,
        read_url=(settings.database.read_url.get_secret_value()
                  if settings.database.read_url else None),
        prepare_threshold=settings.database.prepare_threshold,
        application_name=settings.database.application_name,
        ef_search=settings.retrieval.hnsw_ef_search,
        hnsw_m=settings.retrieval.hnsw_m,
        hnsw_ef_construction=settings.retrieval.hnsw_ef_construction,
        include_duplicates=settings.ingest.near_duplicates.include_in_search,
    )
