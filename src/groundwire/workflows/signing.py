"""HMAC signatures of workflow traffic.

Outbound (callbacks; Stripe's scheme): ``Groundwire-Signature: t=<unix ts>,v1=<hex>`` where
``hex = HMAC-SHA256(callback_secret, f"{t}." + body)``. A receiver recomputes it over the raw
body, compares in constant time and refuses timestamps older than its tolerance (replays).
``verify_callback`` is that check, for receivers written in Python (and the tests).

Inbound (the zendesk adapter): ``X-Zendesk-Webhook-Signature`` =
base64(HMAC-SHA256(signing_secret, timestamp + body)) with the timestamp in
``X-Zendesk-Webhook-Signature-Timestamp``. ``verify_zendesk`` raises ``Unauthenticated``
(code ``workflow.bad_signature``) when a header is missing, the signature differs or the
timestamp is outside the tolerance. Secrets are never logged or put in an error message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import datetime

from groundwire.errors import Unauthenticated

SIGNATURE_HEADER = "Groundwire-Signature"
ZENDESK_SIGNATURE = "x-zendesk-webhook-signature"
ZENDESK_TIMESTAMP = "x-zendesk-webhook-signature-timestamp"
BAD_SIGNATURE = "workflow.bad_signature"


def sign_callback(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The ``Groundwire-Signature`` header value of ``body``."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def verify_callback(secret: str, body: bytes, header: str, *, tolerance_s: int = 300,
                    now: float | None = None) -> bool:
    """Whether ``header`` is a valid, fresh ``Groundwire-Signature`` of ``body``."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    expected = sign_callback(secret, body, timestamp=ts).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def sign_zendesk(secret: str, body: bytes, timestamp: str) -> str:
    """The ``X-Zendesk-Webhook-Signature`` value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def verify_zendesk(secret: str, body: bytes, headers: Mapping[str, str], *,
                   tolerance_s: int, now: float | None = None) -> None:
    """Check a Zendesk-style signature (see the module docstring); raises on failure."""
    signature = headers.get(ZENDESK_SIGNATURE)
    timestamp = headers.get(ZENDESK_TIMESTAMP)
    if not signature or not timestamp:
        raise Unauthenticated("the event is not signed (X-Zendesk-Webhook-Signature and "
                              "X-Zendesk-Webhook-Signature-Timestamp are required)",
                              code=BAD_SIGNATURE)
    if not hmac.compare_digest(sign_zendesk(secret, body, timestamp), signature.strip()):
        raise Unauthenticated("the event's signature does not match", code=BAD_SIGNATURE)
    at = _timestamp_seconds(timestamp)
    if at is None or abs((time.time() if now is None else now) - at) > tolerance_s:
        raise Unauthenticated("the event's signature timestamp is missing, malformed or "
                              "too old", code=BAD_SIGNATURE)


def _timestamp_seconds(value: str) -> float | None:
    """Unix seconds of an ISO 8601 (Zendesk sends ``2024-01-01T00:00:00Z``) or numeric
    timestamp; None when it is neither."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
