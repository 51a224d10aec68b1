"""The published articles of a Zendesk Help Center (one locale) as a source of items.

* Listing: ``GET /api/v2/help_center/{locale}/articles.json?page[size]=N`` following
  ``links.next`` while ``meta.has_more`` (cursor pagination), or ``next_page`` (offset
  pagination, older accounts). Drafts (``draft: true``) are skipped. Each article is an HTML
  item (its ``body``, read by the HTML parser) with ``uri`` ``articles/<id>``, its title,
  ``modified_at`` = ``updated_at`` and ``metadata`` ``url`` (``html_url``), ``section_id``.
* Change detection (``IncrementalConnector``): the cursor keeps each article id's
  ``updated_at`` (and its readers when mapped); the next run yields only articles whose key
  changed; ids gone from the listing (deleted, unpublished to draft, or now restricted and not
  mapped) are the deleted uris.
* Permissions — the safe default: an article visible to everyone (``user_segment_id``
  null) gets the source's default readers; an article restricted to a user segment is
  **skipped** (never indexed, removed if it was) unless ``map_permissions: true``. Then the
  segment is read once per run (``GET /api/v2/help_center/user_segments/{id}.json``) and the
  article is readable only by the Groundwire group(s) it maps to: ``zendesk-group-<id>`` for
  each of ``group_ids`` when the segment is defined by groups alone, otherwise the single
  group ``zendesk-segment-<segment id>`` (tags, organizations or "signed-in users": add the
  right users to that group). A segment that cannot be read fails its articles
  (``permissions.invalid``): never wider access.
* Tickets are not read (Help Center articles only).
* Failures (``rest.py``): ``zendesk.auth_failed`` (401/403), ``zendesk.unreachable``,
  ``zendesk.rate_limited``, ``zendesk.bad_response``: all raised while listing, so nothing
  is deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from groundwire.domain import Permissions, SourceItem
from groundwire.errors import ConfigurationError, GroundwireError
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

ZENDESK_OPTIONS = frozenset({"locale"})


class ZendeskConnector:
    """One locale's published Help Center articles (see the module docstring)."""

    def __init__(self, options: RestOptions, locale: str) -> None:
        self.options, self.locale = options, locale

    @property
    def source(self) -> tuple[str, str]:
        return ("zendesk", f"{self.options.url}/hc/{self.locale}")

    def _listing(self, client: RestClient) -> list[dict[str, Any]]:
        articles: list[dict[str, Any]] = []
        link = f"/api/v2/help_center/{self.locale}/articles.json"
        for page in client.pages(link, {"page[size]": self.options.page_size}, _next):
            for article in (page.get("articles") if isinstance(page, dict) else None) or []:
                if isinstance(article, dict) and article.get("id") is not None \
                        and not article.get("draft"):
                    articles.append(article)
        return sorted(articles, key=lambda a: int(a["id"]) if str(a["id"]).isdigit()
                      else str(a["id"]))

    def _segment(self, client: RestClient, segment_id: str) -> Permissions | str:
        """The readers of a user segment, or why it cannot be mapped."""
        try:
            data = client.get_json(f"/api/v2/help_center/user_segments/{segment_id}.json")
        except GroundwireError as exc:
            if exc.code.endswith((".unreachable", ".rate_limited", ".auth_failed")):
                raise  # the whole source is failing: an outage, not this article's problem
            return f"user segment {segment_id}: {exc}"
        segment = (data or {}).get("user_segment") if isinstance(data, dict) else None
        if not isinstance(segment, dict):
            return f"user segment {segment_id}: not in the response"
        groups = [str(g) for g in segment.get("group_ids") or []]
        if groups and not segment.get("tags") and not segment.get("organization_ids") \
                and not segment.get("or_tags"):
            return Permissions(groups=tuple(sorted(f"zendesk-group-{g}" for g in groups)))
        return Permissions(groups=(f"zendesk-segment-{segment_id}",))

    def changes(self, cursor: dict[str, Any] | None) -> ChangeSet:
        readers: dict[str, Permissions | str] = {}
        skipped = 0
        kept: list[tuple[dict[str, Any], Permissions | str | None]] = []
        with RestClient("zendesk", self.options,
                        basic=lambda email, token: f"{email}/token:{token}") as client:
            for article in self._listing(client):
                segment = article.get("user_segment_id")
                if segment is None:
                    kept.append((article, None))
                elif not self.options.map_permissions:
                    skipped += 1  # restricted and not mapped: never readable by everyone
                else:
                    sid = str(segment)
                    if sid not in readers:
                        readers[sid] = self._segment(client, sid)
                    kept.append((article, readers[sid]))
        keys = {str(a["id"]): _key(a, perms) for a, perms in kept}
        changed, deleted = diff((cursor or {}).get("articles"), keys)
        items = [self._item(a, perms) for a, perms in kept if str(a["id"]) in changed]
        complete = cursor is None
        return ChangeSet(
            items=items, deleted=[] if complete else [f"articles/{i}" for i in deleted],
            cursor={"articles": keys}, complete=complete,
            notes={"articles": len(kept), "changed": len(items),
                   "deleted": 0 if complete else len(deleted), "skipped_restricted": skipped})

    def _item(self, article: dict[str, Any], permissions: Permissions | str | None
              ) -> SourceItem:
        aid = str(article["id"])
        title = str(article.get("title") or article.get("name") or f"article {aid}")
        metadata: dict[str, Any] = {"article_id": aid, "locale": self.locale}
        if article.get("html_url"):
            metadata["url"] = str(article["html_url"])
        if article.get("section_id") is not None:
            metadata["section_id"] = str(article["section_id"])
        item = html_item(f"articles/{aid}", title, str(article.get("body") or ""),
                         max_bytes=self.options.max_bytes, metadata=metadata,
                         modified_at=parse_time(article.get("updated_at")),
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
    if not isinstance(page, dict):
        return None
    meta, links = page.get("meta") or {}, page.get("links") or {}
    if "has_more" in meta:
        return str(links["next"]) if meta.get("has_more") and links.get("next") else None
    return str(page["next_page"]) if page.get("next_page") else None


def _key(article: dict[str, Any], permissions: Permissions | str | None) -> str:
    key = str(article.get("updated_at") or "")
    if isinstance(permissions, Permissions):
        key += "|" + ",".join(permissions.groups)
    elif isinstance(permissions, str):
        key += "|invalid"
    return key


def from_options(options: Mapping[str, Any], settings: Settings) -> ZendeskConnector:
    """The ``zendesk`` connector factory (entry point ``groundwire.connectors: zendesk``).

    ``url`` (``https://<subdomain>.zendesk.com``), ``locale`` (default ``en-us``),
    ``email`` + ``token`` (an API token: HTTP Basic ``email/token:token``; ``token`` alone:
    an OAuth Bearer token; neither: anonymous, public articles only), ``token`` given as
    ``env:VAR`` or ``file:/path``, ``map_permissions`` (default false), ``page_size``
    (1-100, default 100), ``timeout_s`` (20), ``retries`` (2), ``max_retry_wait_s`` (60),
    ``max_bytes`` (``ingest.max_file_mb``). Anything else: ``ConfigurationError``. No I/O."""
    rest = common_options("zendesk", options, settings, ZENDESK_OPTIONS, page_size=100,
                          max_page_size=100)
    locale = options.get("locale") or "en-us"
    if not isinstance(locale, str) or not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*",
                                                       locale):
        raise ConfigurationError("zendesk connector: option 'locale' must be a locale such "
                                 "as en-us")
    return ZendeskConnector(rest, locale.lower())
