"""Credentials and e-mail addresses out of text before it is stored or logged.

Contract::

    redact_for_storage(text) -> str   # each credential -> "<SECRET>", each e-mail -> "<EMAIL>"
    find_credentials(text) -> list[tuple[int, int]]   # sorted, disjoint spans

People paste keys into questions ("why does gw_3f2a…_Zk9… give 401?"). Questions enter answer
records and the audit log; this runs where they do (``app.Groundwire`` before a record is
queued, ``api/routes/audit.py`` before an audit event is), synchronously and cheaply (regular
expressions only, ~10 µs for a typical question), before the writers' own PII redaction
(``PiiDetector.redact``, Presidio, in a worker thread) which still handles phone numbers, cards
and the rest.

What is found, by whom:

* **detect-secrets** (Yelp, maintained): the ``denylist`` expressions of every regex plugin
  except ``IPPublicDetector`` (an address is no credential) — AWS, Azure storage, Artifactory,
  Cloudant, Discord, GitHub, GitLab, IBM, JWT, Mailchimp, npm, OpenAI (legacy shape), PyPI,
  SendGrid, Slack, SoftLayer, Square, Stripe, Telegram, Twilio; ``BasicAuthDetector`` for the
  password of ``scheme://user:password@host`` (only the password goes, the URL stays
  readable); ``PrivateKeyDetector`` for a private key header, widened here to the whole block
  (to its ``END`` line, else to the end of the text: a pasted key is secret throughout).
* **safety/pii.py**'s secret rules: current OpenAI/Anthropic ``sk-…`` keys (detect-secrets
  knows only the legacy ``T3BlbkFJ`` shape), Google API keys, ``password=…`` / ``api_key: …``
  assignments with a high-entropy value, PEM blocks.
* **here**, shapes no maintained detector knows: Groundwire API keys (``gw_<12 hex>_<secret>``,
  ``security/keys.py``), ``Bearer``/``Basic`` credentials after the word, and every e-mail
  address whatever its domain (``PiiDetector`` validates domains against the public-suffix
  list, so ``jane@corp.internal`` passed; for storage any address is personal data).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from groundwire.safety.pii import PiiDetector

SECRET = "<SECRET>"
EMAIL = "<EMAIL>"

# security/keys.py mints gw_<12 lowercase hex>_<32 bytes url-safe base64>; a truncated or
# mistyped secret part is still redacted (8+ characters).
_GW_KEY = re.compile(r"(?<![A-Za-z0-9])gw_[0-9a-f]{12}_[A-Za-z0-9_-]{8,128}")
# "Bearer <credential>" / "Basic <base64>" / GitHub's "token <credential>": the value needs a
# digit and 12+ characters, so prose ("token authentication", "Basic information") stays.
_AUTH_SCHEME = re.compile(
    r"(?i)\b(?:bearer|basic|token)\s+((?=[A-Za-z._~+/-]*\d)[A-Za-z0-9._~+/-]{12,}=*)"
)
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|---- END SSH2[^\n]*")

Span = tuple[int, int]


@functools.cache
def _detect_secrets_rules() -> tuple[tuple[re.Pattern[str], bool, bool], ...]:
    """(pattern, redact group 1 only, is a private-key header) per detect-secrets rule."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.ip_public import IPPublicDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector

    rules: list[tuple[re.Pattern[str], bool, bool]] = []
    plugin_classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    for plugin in plugin_classes:
        if not issubclass(plugin, RegexBasedDetector) or plugin is IPPublicDetector:
            continue
        # a class attribute on every subclass (declared as an abstract property on the base)
        denylist = cast("Iterable[re.Pattern[str]]", plugin.denylist)
        for pattern in denylist:
            rules.append((pattern, plugin is BasicAuthDetector, plugin is PrivateKeyDetector))
    return tuple(rules)


def _private_key_span(text: str, start: int, end: int) -> Span:
    begin = start - 5 if text[max(0, start - 5):start] == "-----" else start
    closing = _PEM_END.search(text, end)
    return begin, (closing.end() if closing else len(text))


def find_credentials(text: str) -> list[Span]:
    """Spans of credentials in ``text``: sorted, merged where they overlap."""
    spans: list[Span] = []
    for pattern, value_only, private_key in _detect_secrets_rules():
        for m in pattern.finditer(text):
            if value_only and m.lastindex:
                spans.append(m.span(1))
            elif private_key:
                spans.append(_private_key_span(text, *m.span()))
            else:
                spans.append(m.span())
    spans.extend(m.span() for m in _GW_KEY.finditer(text))
    spans.extend(m.span(1) for m in _AUTH_SCHEME.finditer(text))
    spans.extend((f.start, f.end) for f in _secret_detector().find(text))
    return _merge(s for s in spans if s[1] > s[0])


@functools.cache
def _secret_detector() -> PiiDetector:
    from groundwire.safety.pii import PiiDetector

    return PiiDetector(kinds=("secret",))


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _replace(text: str, spans: list[Span], token: str) -> str:
    parts: list[str] = []
    pos = 0
    for start, end in spans:
        parts.append(text[pos:start])
        parts.append(token)
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def redact_for_storage(text: str) -> str:
    """``text`` with credentials replaced by ``<SECRET>`` and e-mail addresses (any domain)
    by ``<EMAIL>``. Idempotent; cheap enough for the request path."""
    if not text:
        return text
    redacted = _replace(text, find_credentials(text), SECRET)
    return _EMAIL.sub(EMAIL, redacted)


def storage_redactor(then: Callable[[str], str]) -> Callable[[str], str]:
    """``redact_for_storage`` followed by ``then`` (e.g. ``PiiDetector().redact``)."""
    return lambda text: then(redact_for_storage(text))
