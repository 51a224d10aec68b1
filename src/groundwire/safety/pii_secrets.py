"""Secrets in text for ``safety.pii``: cloud/API tokens, PEM private keys and
``password=``/``api_key=`` assignments with high-entropy values."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from groundwire.safety.pii_recognizers import PiiFinding


@dataclass(frozen=True, slots=True)
class _SecretRule:
    """A secret expression. With ``value_group`` the finding spans only that group (the value
    of ``password=...``), so ``redact`` keeps the key name; such matches score 0.9, the
    self-identifying token formats 1.0."""

    name: str
    pattern: re.Pattern[str]
    prefix: Callable[[re.Match[str]], str]  # the non-secret part kept in the masked sample
    value_group: int = 0
    min_entropy: float = 0.0


def _lit(n: int) -> Callable[[re.Match[str]], str]:
    return lambda m: m.group(0)[:n]


_SECRET_RULES: tuple[_SecretRule, ...] = (
    _SecretRule(
        "private_key",
        re.compile(
            r"-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----"
            r"(?:[\s\S]{0,8000}?-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----)?"
        ),
        lambda m: m.group(0).split("-----")[1].join(("-----", "-----")),
    ),
    _SecretRule("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
                _lit(4)),
    _SecretRule("github_token",
                re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})"),
                lambda m: m.group(0).split("_")[0] + "_"),
    _SecretRule("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,250}"), _lit(5)),
    _SecretRule("openai_key",
                re.compile(r"(?<![\w-])sk-(?:proj-|svcacct-|ant-)?[A-Za-z0-9_-]{20,200}"),
                lambda m: m.group(0)[: m.group(0).index("-", 3) + 1]
                if m.group(0).startswith(("sk-proj-", "sk-ant-", "sk-svcacct-")) else "sk-"),
    _SecretRule("stripe_key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{20,99}"), _lit(8)),
    _SecretRule("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), _lit(4)),
    _SecretRule(
        "assignment",
        re.compile(
            r"(?i)((?:password|passwd|pwd|secret|api[_-]?key|apikey|"
            r"access[_-]?key|auth[_-]?token|token|client[_-]?secret)\s*[:=]\s*[\"']?)"
            r"([^\s\"'<>`,;]{8,200})"
        ),
        lambda m: m.group(1),
        value_group=2,
        min_entropy=3.0,
    ),
)
_PLACEHOLDER = re.compile(
    r"^(?:\$\{.*\}|\$\w+|%\(?\w+\)?s?|\{\{.*\}\}|<.*>|x+|\*+|\.+|(?:your|my|example|dummy|"
    r"changeme|placeholder|redacted|secret|password|test)[\w-]*)$",
    re.IGNORECASE,
)


_WORDS_ONLY = re.compile(r"[A-Za-z][a-z]*(?:[-_. ][A-Za-z][a-z]*)*")


def _entropy(value: str) -> float:
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


# Every secret rule's anchor; when none occurs the rules are not run.
_SECRET_HINT = re.compile(
    r"PRIVATE KEY|AKIA|ASIA|AGPA|AIDA|AROA|gh[pousr]_|github_pat_|xox[abposr]-|sk-|[rs]k_live_|"
    r"AIza|passw|pwd|secret|api[_-]?key|apikey|access[_-]?key|token",
    re.IGNORECASE,
).search


def _find_secrets(text: str) -> list[PiiFinding]:
    found: list[PiiFinding] = []
    if not _SECRET_HINT(text):
        return found
    for rule in _SECRET_RULES:
        for m in rule.pattern.finditer(text):
            value = m.group(rule.value_group)
            if rule.min_entropy:
                if _PLACEHOLDER.match(value) or _entropy(value) < rule.min_entropy:
                    continue
                if _WORDS_ONLY.fullmatch(value):
                    continue  # "required", "unused-for-now", "change_me": words, not a secret
            start, end = m.span(rule.value_group)
            score = 0.9 if rule.value_group else 1.0
            found.append(PiiFinding("secret", start, end, score, rule.prefix(m) + "****"))
    return found
