"""Alert delivery: POST each opened/resolved alert to ``monitoring.webhook_url`` as JSON.

Body: ``{"event": "alert.opened" | "alert.resolved", "alert": Alert.as_json()}``. Delivery is
best effort: a failed POST is logged and counted, never raised (the alert row is the record).
"""

from __future__ import annotations

import logging

import httpx

from groundwire.domain.records import Alert

log = logging.getLogger(__name__)


class Webhook:
    def __init__(self, url: str | None, *, timeout_s: float = 5.0) -> None:
        self.url = url
        self._timeout_s = timeout_s
        self.sent = 0
        self.failed = 0

    async def send(self, event: str, alert: Alert) -> bool:
        if not self.url:
            return False
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.post(self.url, json={"event": event,
                                                             "alert": alert.as_json()})
            response.raise_for_status()
        except httpx.HTTPError as exc:
            self.failed += 1
            log.warning("alert webhook failed", extra={"monitor": alert.monitor,
                                                       "error": type(exc).__name__})
            return False
        self.sent += 1
        return True
