"""The pages of one Confluence Cloud space (REST API v2) as a source of items.

* Listing: ``space`` is a space key (resolved once per run with ``GET /wiki/api/v2/spaces?
  keys=KEY``) or a numeric space id; the pages come from ``GET /wiki/api/v2/spaces/{id}/
  pages?body-format=storage&status=current`` following ``_links.next`` (cursor pagination).
  Each page is an HTML item (its storage-format XHTML, read by the HTML parser) with
  ``uri`` ``pages/<id>``, the page's title, ``modified_at`` = ``version.createdAt`` and
  ``metadata.url`` = the page's web link (``_links.base`` + ``_links.webui``).
* Change detection (``IncrementalConnector``): the cursor keeps each page id's
  ``version.number`` (and, with ``map_permissions``, a digest of its effective read
  restrictions); the next run yields only pages whose key changed; ids gone from the listing
  are the deleted uris. Listing is complete every run (the v2 API has no "changed since").
* Permissions: without ``map_permissions`` (the default) pages get the source's default
  readers (``security.default_readers``): Confluence space and page restrictions are **not**
  read, so give such a source an index whose readers may read the whole space. With
  ``map_permissions: true`` the read restrictions of every page are read each run
  (``GET /wiki/rest/api/content/{id}/restriction/byOperation/read``, API v1) and combined with
  those of its ancestors (Confluence inherits view restrictions): a restricted page is
  readable only by the restricting users (by ``email``, else ``accountId``) and groups (as
  Groundwire groups ``confluence-<group name>``); a page without restrictions on itself or its
  ancestors gets the default readers. A restriction that cannot be read or mapped fails that
  page (``permissions.invalid``): never wider access.
* Failures (``rest.py``): ``confluence.auth_failed`` (401/403), ``confluence.unreachable``
  (5xx, timeouts, connection errors after retries), ``confluence.rate_limited``,
  ``confluence.space_not_found``: all raised while listing, so nothing is deleted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from groundwire.domain import Permissions, SourceItem, parse_permissions
from groundwire.errors import ConfigurationError
from groundwire.ingest.connectors.changes import ChangeSet
from groundwire.ingest.connectors.rest import (
    RestClient,
    RestOptions,
    common_options,
    diff,
    html_item,
    parse_time,
)

if TYPE_CHECKING:
    from groundwire.settings import Settings

CONFLUENCE_OPTIONS = frozenset({"space"})
_GROUP_CHARS = re.compile(r"[^A-Za-z0-9._@+-]+")


class ConfluenceConnector:
    """One space's current pages (see the module docstring)."""

    def __init__(self, options: RestOptions, space: str) -> None:
        self.options, self.space = options, space

    @property
    def source(self) -> tuple[str, str]:
        return ("confluence", f"{self.options.url}/wiki/spaces/{self.space}")

    def _space_id(self, client: RestClient) -> str:
        if self.space.isdigit():
            return self.space
        found = client.get_json("/wiki/api/v2/spaces", {"keys": self.space})
        results = found.get("results") if isinstance(found, dict) else None
        if not results or not isinstance(results[0], dict) or "id" not in results[0]:
            raise client.error("space_not_found", f"space {self.space!r} not found at "
                               f"{self.options.url} (or not visible to these credentials)")
        return str(results[0]["id"])

    def _listing(self, client: RestClient) -> list[dict[str, Any]]:
        space_id = self._space_id(client)
        params = {"body-format": "storage", "status": "current",
                  "limit": self.options.page_size}
        pages: list[dict[str, Any]] = []
        for page in client.pages(f"/wiki/api/v2/spaces/{space_id}/pages", params, _next):
            base = str((page.get("_links") or {}).get("base") or self.options.url + "/wiki")
            for result in page.get("results") or []:
                if isinstance(result, dict) and result.get("id") is not None:
                    pages.append({**result, "_base": base})
        return sorted(pages, key=lambda p: int(p["id"]) if str(p["id"]).isdigit()
                      else str(p["id"]))

    def _restrictions(self, client: RestClient, pages: list[dict[str, Any]]
                      ) -> dict[str, Permissions | str | None]:
        """Page id -> its own read restriction (None: none; a string: why unreadable)."""
        own: dict[str, Permissions | str | None] = {}
        for page in pages:
            pid = str(page["id"])
            data = client.get_json(
                f"/wiki/rest/api/content/{pid}/restriction/byOperation/read")
            restrictions = (data or {}).get("restrictions") or {}
            users = [u.get("email") or u.get("accountId") for u in
                     ((restrictions.get("user") or {}).get("results") or [])]
            groups = ["confluence-" + _GROUP_CHARS.sub("-", str(g.get("name") or g.get("id")))
                      for g in ((restrictions.get("group") or {}).get("results") or [])]
            if not users and not groups:
                own[pid] = None
                continue
            try:
                own[pid] = parse_permissions({"users": users, "groups": groups})
            except (ValueError, TypeError) as exc:
                own[pid] = f"read restriction of page {pid}: {exc}"
        return own

    def changes(self, cursor: dict[str, Any] | None) -> ChangeSet:
        with RestClient("confluence", self.options) as client:
            pages = self._listing(client)
            own = self._restrictions(client, pages) if self.options.map_permissions else {}
        parents = {str(p["id"]): str(p.get("parentId") or "") for p in pages}
        effective = {pid: _effective(pid, own, parents) for pid in parents}
        keys = {str(p["id"]): _key(p, effective.get(str(p["id"]))) for p in pages}
        previous = (cursor or {}).get("pages")
        changed, deleted = diff(previous, keys)
        items = [self._item(p, effective.get(str(p["id"]))) for p in pages
                 if str(p["id"]) in changed]
        complete = cursor is None
        return ChangeSet(items=items, deleted=[] if complete else [f"pages/{i}" for i in deleted],
                         cursor={"pages": keys}, complete=complete,
                         notes={"pages": len(pages), "changed": len(items),
                                "deleted": 0 if complete else len(deleted)})

    def _item(self, page: dict[str, Any], permissions: Permissions | str | None
              ) -> SourceItem:
        pid = str(page["id"])
        title = str(page.get("title") or f"page {pid}")
        body = str(((page.get("body") or {}).get("storage") or {}).get("value") or "")
        version = page.get("version") or {}
        webui = (page.get("_links") or {}).get("webui")
        metadata: dict[str, Any] = {"space": self.space, "page_id": pid,
                                    "version": version.get("number")}
        if webui:
            metadata["url"] = str(page["_base"]).rstrip("/") + str(webui)
        item = html_item(f"pages/{pid}", title, body, max_bytes=self.options.max_bytes,
                         metadata=metadata, modified_at=parse_time(version.get("createdAt")),
                         permissions=permissions if isinstance(permissions, Permissions)
                         else None)
        if isinstance(permissions, str):
            return SourceItem(uri=item.uri, media_type=item.media_type, read=item.read,
                              size=item.size, title=item.title, metadata=item.metadata,
                              modified_at=item.modified_at, permissions_error=permissions)
        return item

    def items(self) -> Iterator[SourceItem]:
        return iter(self.changes(None).items)


def _next(page: Any) -> str | None:
    link = (page.get("_links") or {}).get("next") if isinstance(page, dict) else None
    return str(link) if link else None


def _effective(pid: str, own: Mapping[str, Permissions | str | None],
               parents: Mapping[str, str]) -> Permissions | str | None:
    """The page's restriction intersected with its ancestors' (within the space)."""
    result: Permissions | str | None = None
    seen: set[str] = set()
    current = pid
    while current and current not in seen:
        seen.add(current)
        mine = own.get(current)
        if isinstance(mine, str):
            return mine
        if mine is not None:
            result = mine if result is None or isinstance(result, str) \
                else result.intersect(mine)
        current = parents.get(current, "")
    return result


def _key(page: dict[str, Any], permissions: Permissions | str | None) -> str:
    version = (page.get("version") or {}).get("number")
    if permissions is None:
        return f"v{version}"
    stated = permissions if isinstance(permissions, str) else permissions.as_json()
    digest = hashlib.sha256(json.dumps(stated, sort_keys=True, default=str).encode())
    return f"v{version}:{digest.hexdigest()[:12]}"


def from_options(options: Mapping[str, Any], settings: Settings) -> ConfluenceConnector:
    """The ``confluence`` connector factory (entry point ``groundwire.connectors:
    confluence``).

    ``url`` (the site, e.g. ``https://example.atlassian.net``; a trailing ``/wiki`` is
    dropped), ``space`` (required: a space key or id), ``email`` + ``token`` (HTTP Basic with
    an Atlassian API token; ``token`` alone: a Bearer token; neither: anonymous), ``token``
    given as ``env:VAR`` or ``file:/path``, ``map_permissions`` (default false),
    ``page_size`` (1-250, default 100), ``timeout_s`` (20), ``retries`` (2),
    ``max_retry_wait_s`` (60), ``max_bytes`` (``ingest.max_file_mb``). Anything else:
    ``ConfigurationError``. No I/O."""
    opts = dict(options)
    if isinstance(opts.get("url"), str) and opts["url"].rstrip("/").endswith("/wiki"):
        opts["url"] = opts["url"].rstrip("/")[: -len("/wiki")]
    rest = common_options("confluence", opts, settings, CONFLUENCE_OPTIONS, page_size=100,
                          max_page_size=250)
    space = options.get("space")
    if not isinstance(space, str | int) or not re.fullmatch(r"[A-Za-z0-9_~.-]+", str(space)):
        raise ConfigurationError("confluence connector: option 'space' (a space key or id) "
                                 "is required")
    return ConfluenceConnector(rest, str(space))
