"""Issue 18 item 7: credentials pasted into text are redacted before storage."""

from __future__ import annotations

import re
import secrets

import pytest

from groundwire.safety.redaction import find_credentials, redact_for_storage
from groundwire.security import keys


def _gw_key() -> str:
    """A key exactly as ``security/keys.py`` mints one."""
    token = f"gw_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    assert keys._TOKEN.match(token)
    return token


SK = "sk-proj-Q7vX2mN9pL4kR8tW1yZ6bC3dF5gH0jS2aE4uI"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
       ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7vQ2mN9pL4kR8tW1yZ6bC3dF5gH0jS2a\n"
       "E4uIq8wT3rY7uP1oK5jH2gF6dS9aZ0xC4vB8nM\n-----END RSA PRIVATE KEY-----")

CASES = {
    "groundwire key": ("my key {} gives 401, why?", _gw_key()),
    "openai key": ("is {} still valid?", SK),
    "legacy openai key (detect-secrets)": (
        "old key {}", "sk-AAAAb1c2d3e4f5g6h7i8j9k0" + "T3BlbkFJ" + "a1b2c3d4e5f6g7h8i9j0"),
    "bearer token": ('curl -H "Authorization: Bearer {}" /v1/ask', "a8F3kq92LmZx01pQvR7t"),
    "jwt": ("the token {} expired", JWT),
    "url password": ("connect to postgresql://admin:{}@db.internal:5432/app", "hunter2-Pw9x"),
    "private key": ("here is my key:\n{}\nthanks", PEM),
    "aws key (detect-secrets)": ("aws {} in env", "AKIAIOSFODNN7EXAMPL3"),
    "github token (detect-secrets)": ("git {} push", "ghp_" + "x1Y2z3" * 6),
    "password assignment": ("set password={} in the config", "Xk9#mQ2$vL7pR4"),
    "e-mail on a private domain": ("write to {} please", "jane.doe@corp.internal"),
    "e-mail on a single-label domain": ("write to {} please", "ops@intranet"),
    "e-mail on a public domain": ("write to {} please", "jane@example.com"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_credential_is_redacted(name: str) -> None:
    template, value = CASES[name]
    text = template.format(value)
    redacted = redact_for_storage(text)
    for line in value.splitlines():
        assert line not in redacted, name
    assert ("<EMAIL>" if "@" in value and "://" not in text else "<SECRET>") in redacted
    prefix = template.split("{}")[0]
    assert redacted.startswith(prefix.rstrip()), "the words around it stay"


def test_url_keeps_its_user_and_host() -> None:
    redacted = redact_for_storage("postgresql://admin:hunter2-Pw9x@db.internal:5432/app")
    assert redacted == "postgresql://admin:<SECRET>@db.internal:5432/app"


def test_pem_without_end_line_is_redacted_to_the_end() -> None:
    head, _, _ = PEM.rpartition("\n")
    redacted = redact_for_storage("my key " + head)
    assert redacted == "my key <SECRET>"


PROSE = [
    "How do I rotate an API key?",
    "What is the password policy for contractors?",
    "Token limits for gpt-4 and Bearer token authentication in the OAuth flow",
    "Basic information about the Team plan, version 2.3.1",
    "Is gw_ingest the module that reads folders?",
    "sk-learn or scikit-learn?",
    "The meeting is at 10:30 in room B-12",
]


@pytest.mark.parametrize("text", PROSE)
def test_prose_is_left_alone(text: str) -> None:
    assert redact_for_storage(text) == text
    assert find_credentials(text) == []


def test_idempotent_and_several_in_one_text() -> None:
    key = _gw_key()
    text = f"{key} and {SK} and Bearer a8F3kq92LmZx01pQvR7t, mail bob@corp.local"
    once = redact_for_storage(text)
    assert redact_for_storage(once) == once
    assert re.findall(r"<[A-Z]+>", once) == ["<SECRET>"] * 3 + ["<EMAIL>"]
