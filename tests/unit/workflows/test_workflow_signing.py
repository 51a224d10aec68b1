"""Signatures of workflow traffic: outbound Stripe-style callbacks, inbound Zendesk-style."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from groundwire.errors import Unauthenticated
from groundwire.workflows.signing import (
    sign_callback,
    sign_zendesk,
    verify_callback,
    verify_zendesk,
)

BODY = b'{"reply":"hello"}'


def test_callback_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    header = sign_callback("s3cret", BODY, timestamp=1700000000)
    expected = hmac.new(b"s3cret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify_callback("s3cret", BODY, header, now=1700000010)


@pytest.mark.parametrize("change", ["secret", "body", "stale", "garbled"])
def test_callback_verification_refuses_tampering_and_replays(change: str) -> None:
    header = sign_callback("s3cret", BODY, timestamp=1700000000)
    secret, body, now = "s3cret", BODY, 1700000000.0
    if change == "secret":
        secret = "other"
    elif change == "body":
        body = BODY + b" "
    elif change == "stale":
        now += 301
    else:
        header = "v1=abc"
    assert not verify_callback(secret, body, header, now=now)


def test_zendesk_signature_accepts_the_right_one() -> None:
    ts = "2024-01-01T00:00:00Z"
    headers = {"x-zendesk-webhook-signature": sign_zendesk("zk", BODY, ts),
               "x-zendesk-webhook-signature-timestamp": ts}
    verify_zendesk("zk", BODY, headers, tolerance_s=300, now=1704067200 + 60)


@pytest.mark.parametrize("problem", ["missing", "wrong", "stale", "bad_ts"])
def test_zendesk_signature_refusals_have_a_stable_code(problem: str) -> None:
    ts = "2024-01-01T00:00:00Z" if problem != "bad_ts" else "yesterday"
    headers = {"x-zendesk-webhook-signature": sign_zendesk("zk", BODY, ts),
               "x-zendesk-webhook-signature-timestamp": ts}
    now = 1704067200 + (1000 if problem == "stale" else 0)
    if problem == "missing":
        headers.pop("x-zendesk-webhook-signature")
    if problem == "wrong":
        headers["x-zendesk-webhook-signature"] = sign_zendesk("other", BODY, ts)
    with pytest.raises(Unauthenticated) as info:
        verify_zendesk("zk", BODY, headers, tolerance_s=300, now=now)
    assert info.value.code == "workflow.bad_signature"
    assert "zk" not in info.value.message
