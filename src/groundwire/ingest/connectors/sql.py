"""Rows of a SQL query as a source of items (SQLAlchemy: any database it has a driver for).

``query`` is run as a subquery; its columns map to the item: ``id`` (required; the item's
``uri`` is ``<id>``), ``title``, ``body`` (the text indexed), ``updated_at`` (change
detection), ``metadata`` (a list of columns copied into the document's metadata) and
``permissions`` (a column holding the readers as JSON, see ``domain.access``); each mapping
defaults to the column of the same name.

Incremental (``IncrementalConnector``): the cursor keeps the greatest ``updated_at`` seen and
the set of ids. The next run reads only the rows with ``updated_at`` at or after it (rows
touched in the same instant are read again; unchanged text is skipped downstream) and the id
column of every row: ids gone since are the deleted uris. Without ``updated_at`` every run is
a complete listing. A connection or query failure raises (``sql.unreachable``): nothing is
deleted. The URL's password never appears in ``source`` or in a message (give the URL as an
``env:``/``file:`` reference).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundwire.domain import SourceItem, parse_permissions
from groundwire.errors import ConfigurationError, InvalidRequest
from groundwire.ingest.connectors.changes import ChangeSet

if TYPE_CHECKING:
    from groundwire.settings import Settings

SQL_OPTIONS = frozenset({"url", "query", "columns"})
_COLUMN_KEYS = ("id", "title", "body", "updated_at", "permissions")


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL shows nothing of itself
        return "<invalid url>"


class SqlConnector:
    def __init__(self, url: str, query: str, columns: dict[str, Any]) -> None:
        self.url, self.query, self.columns = url, query.strip().rstrip(";"), columns

    @property
    def source(self) -> tuple[str, str]:
        digest = hashlib.sha256(self.query.encode()).hexdigest()[:12]
        return ("sql", f"{_masked(self.url)}#{digest}")

    def _engine(self) -> Any:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        parsed = make_url(self.url)
        database = parsed.database or ""
        if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:") \
                and not Path(database).exists():
            raise InvalidRequest(f"sqlite database not found: {database}",
                                 code="sql.unreachable")
        return create_engine(self.url, pool_pre_ping=False)

    def changes(self, cursor: dict[str, Any] | None) -> ChangeSet:
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        col = self.columns
        since = (cursor or {}).get("since")
        engine = self._engine()
        try:
            with engine.connect() as conn:
                if since is not None and col["updated_at"]:
                    value: Any = since["value"]
                    if since.get("type") == "datetime":
                        value = datetime.fromisoformat(value)
                    rows = conn.execute(text(
                        f'SELECT * FROM ({self.query}) AS q WHERE q."{col["updated_at"]}"'
                        " >= :since"), {"since": value}).mappings().all()
                    ids = [str(r[0]) for r in conn.execute(text(
                        f'SELECT q."{col["id"]}" FROM ({self.query}) AS q')).all()]
                else:
                    rows = conn.execute(text(self.query)).mappings().all()
                    ids = [str(r[col["id"]]) for r in rows]
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None) or exc
            raise InvalidRequest(f"query failed on {_masked(self.url)}: "
                                 f"{type(orig).__name__}: {orig}"
                                 .replace(self.url, _masked(self.url)),
                                 code="sql.unreachable") from exc
        finally:
            engine.dispose()
        items = sorted((self._item(r) for r in rows), key=lambda i: i.uri)
        newest = since
        stamps = [r[col["updated_at"]] for r in rows
                  if col["updated_at"] in r and r[col["updated_at"]] is not None]
        if stamps:
            top = max(stamps)
            candidate = {"value": top.isoformat() if isinstance(top, datetime) else top,
                         "type": "datetime" if isinstance(top, datetime) else "raw"}
            newest = candidate if since is None or top >= _value(since) else since
        complete = since is None
        previous = set((cursor or {}).get("ids") or [])
        deleted = [] if complete else sorted(previous - set(ids))
        return ChangeSet(items=items, deleted=deleted,
                         cursor={"since": newest, "ids": sorted(set(ids))}, complete=complete,
                         notes={"rows": len(ids), "changed": len(items),
                                "deleted": len(deleted)})

    def _item(self, row: Mapping[str, Any]) -> SourceItem:
        col = self.columns
        body = "" if row.get(col["body"]) is None else str(row[col["body"]])
        updated = row.get(col["updated_at"]) if col["updated_at"] else None
        permissions, error = None, None
        if col["permissions"] and row.get(col["permissions"]) is not None:
            raw = row[col["permissions"]]
            try:
                permissions = parse_permissions(json.loads(raw) if isinstance(raw, str)
                                                else raw)
            except (ValueError, TypeError) as exc:
                error = f"{col['permissions']}: {exc}"
        metadata = {k: row[k] if isinstance(row[k], str | int | float | bool) or row[k] is None
                    else str(row[k]) for k in col["metadata"] if k in row}
        uri = str(row[col["id"]])
        return SourceItem(
            uri=uri, media_type="text/plain", read=lambda: body.encode(), text=body,
            title=str(row.get(col["title"]) or uri), metadata=metadata,
            modified_at=updated if isinstance(updated, datetime) else None,
            permissions=permissions, permissions_error=error)

    def items(self) -> Iterator[SourceItem]:
        return iter(self.changes(None).items)


def _value(since: dict[str, Any]) -> Any:
    if since.get("type") == "datetime":
        return datetime.fromisoformat(since["value"])
    return since["value"]


def from_options(options: Mapping[str, Any], settings: Settings) -> SqlConnector:
    """The ``sql`` connector factory (entry point ``groundwire.connectors: sql``).

    ``url`` (a SQLAlchemy URL; give it as ``env:VAR`` when it holds a password), ``query``
    (required, a SELECT), ``columns`` (optional mapping: ``id``, ``title``, ``body``,
    ``updated_at`` (``null``: no incremental reads), ``permissions``, ``metadata`` (list)).
    Anything else: ``ConfigurationError``. No I/O."""
    unknown = sorted(set(options) - SQL_OPTIONS)
    if unknown:
        raise ConfigurationError(f"sql connector: unknown option(s) {', '.join(unknown)} "
                                 f"(known: {', '.join(sorted(SQL_OPTIONS))})")
    url, query = options.get("url"), options.get("query")
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError("sql connector: option 'url' (a SQLAlchemy URL) is required")
    if not isinstance(query, str) or not query.strip():
        raise ConfigurationError("sql connector: option 'query' is required")
    given = options.get("columns") or {}
    if not isinstance(given, dict):
        raise ConfigurationError("sql connector: 'columns' must be a mapping")
    columns: dict[str, Any] = {k: k for k in _COLUMN_KEYS}
    columns["permissions"] = None
    columns["metadata"] = []
    for key, value in given.items():
        if key not in (*_COLUMN_KEYS, "metadata"):
            raise ConfigurationError(f"sql connector: unknown column mapping {key!r}")
        if key == "metadata":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigurationError("sql connector: columns.metadata must be a list")
        elif value is not None and (not isinstance(value, str) or '"' in value):
            raise ConfigurationError(f"sql connector: columns.{key} must be a column name")
        columns[key] = value
    if not columns["id"]:
        raise ConfigurationError("sql connector: columns.id is required")
    return SqlConnector(url, query, columns)
