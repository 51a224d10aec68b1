"""Credentials in source options: references only, resolved at sync time, never shown.

* A string option ``env:VAR`` is the environment variable ``VAR``; ``file:/path`` the content
  of that file (trailing newline stripped). ``resolve`` does it at sync time; the resolved
  values are never stored, logged or returned.
* ``check_no_clear_secrets``: an option whose key names a credential (``password``,
  ``token``, ``secret``, ``api_key``, ``credentials``...) or a URL with a password must be
  such a reference; a clear value is refused (``source.secret_in_clear``), so no credential is
  ever stored in clear.
* ``mask`` is what list/status show: references as given (they are not secrets), any other
  credential-looking value as ``***``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from groundwire.errors import InvalidRequest

_SECRET_KEY = re.compile(r"(pass(word)?|secret|token|api_?key|credential|auth)", re.I)
_REFERENCE = re.compile(r"^(env|file):.+")


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and bool(_REFERENCE.match(value))


def _url_has_password(value: Any) -> bool:
    if not isinstance(value, str) or "://" not in value:
        return False
    try:
        return bool(urlsplit(value).password)
    except ValueError:
        return False


def check_no_clear_secrets(options: Any, path: str = "") -> None:
    """Raise ``InvalidRequest`` (``source.secret_in_clear``) for a clear credential."""
    if isinstance(options, dict):
        for key, value in options.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(value, dict | list):
                check_no_clear_secrets(value, where)
            elif value is not None and not _is_reference(value) and (
                    _SECRET_KEY.search(str(key)) or _url_has_password(value)):
                raise InvalidRequest(
                    f"option {where!r} holds a credential in clear: give it as env:VAR or "
                    "file:/path (resolved at sync time, never stored)",
                    code="source.secret_in_clear")
    elif isinstance(options, list):
        for i, value in enumerate(options):
            if isinstance(value, dict | list):
                check_no_clear_secrets(value, f"{path}[{i}]")
            elif _url_has_password(value):
                raise InvalidRequest(f"option {path}[{i}] holds a credential in clear",
                                     code="source.secret_in_clear")


def resolve(options: Any) -> Any:
    """``options`` with every ``env:``/``file:`` reference replaced by its value;
    ``InvalidRequest`` (``source.secret_missing``) naming the reference (never a value)."""
    if isinstance(options, dict):
        return {k: resolve(v) for k, v in options.items()}
    if isinstance(options, list):
        return [resolve(v) for v in options]
    if _is_reference(options):
        kind, _, ref = options.partition(":")
        if kind == "env":
            if ref not in os.environ:
                raise InvalidRequest(f"environment variable {ref!r} is not set",
                                     code="source.secret_missing")
            return os.environ[ref]
        try:
            return Path(ref).read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            raise InvalidRequest(f"cannot read secret file {ref!r}: {exc.strerror}",
                                 code="source.secret_missing") from exc
    return options


def mask(options: Any, key: str = "") -> Any:
    """``options`` safe to show: references as given, other credentials as ``***``."""
    if isinstance(options, dict):
        return {k: mask(v, str(k)) for k, v in options.items()}
    if isinstance(options, list):
        return [mask(v, key) for v in options]
    if _is_reference(options) or options is None:
        return options
    if (key and _SECRET_KEY.search(key)) or _url_has_password(options):
        return "***"
    return options
