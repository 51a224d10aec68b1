"""What every settings section shares: the strict section base and secret markers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

# Fields that can hold a secret carry ``json_schema_extra={"secret": KIND}``; ``masked`` (what
# ``groundwire config show`` prints) masks them by KIND, and tests/unit/test_settings_secrets.py
# fails when a field whose name looks secret-bearing is not marked. Kinds:
#   "value"   the whole value is masked (a dict: every value, keys kept: header names show)
#   "url"     a URL: the password of ``user:password@`` and every query-string value masked
#   "url_path" a URL whose path and query are the secret (webhooks): scheme and host only
SECRET_KINDS = ("value", "url", "url_path")
MASK = "********"


def _secret(kind: str) -> dict[str, Any]:
    assert kind in SECRET_KINDS
    return {"secret": kind}


class _Section(BaseModel):
    """A settings section: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")
