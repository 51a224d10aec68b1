"""Issue 18 item 6: ``groundwire config show`` masks every field that can hold a secret.

Two guards: every secret-bearing field set through a real TOML file never shows in the
command's output, and every field whose name looks secret-bearing is marked in the model (a
new ``*_token`` / ``*_url`` / ``*headers`` setting without a marker fails here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel, SecretStr
from typer.testing import CliRunner

from groundwire.settings import SECRET_KINDS, Settings, masked, secret_kind

# Words (between underscores) of a field name that say it may carry a credential.
SECRET_WORDS = frozenset({
    "key", "keys", "token", "secret", "secrets", "password", "passwd", "pwd", "credential",
    "credentials", "auth", "authorization", "header", "headers", "url", "uri", "dsn",
    "endpoint", "webhook", "cookie", "cookies", "apikey",
})
# Fields whose names match but hold no secret, each with the reason.
NOT_SECRET = {
    "SecuritySettings.output_url_allowlist": "host names answers may link to, public by design",
}

SECRETS = {
    "db_password": "dbpass-7f3a9c",
    "replica_password": "replpass-51b2e8",
    "provider_key": "sk-provider-key-0a1b2c3d4e5f",
    "provider_header": "azure-header-secret-9e8d7c",
    "base_url_password": "llmpass-3c4d5e",
    "base_url_query": "querykey-6f7a8b",
    "otlp_header": "otlp-bearer-2b3c4d",
    "otlp_password": "otlppass-8e9f0a",
    "webhook_path": "T000/B000/webhooksecret-1a2b3c",
}

TOML = f"""
database_url = "postgresql://gw:{SECRETS["db_password"]}@db.internal:5432/gw"

[database]
read_url = "postgresql://gw:{SECRETS["replica_password"]}@replica.internal:5432/gw"

[[llm.providers]]
name = "main"
base_url = "https://svc:{SECRETS["base_url_password"]}@llm.example.com/v1?key={SECRETS["base_url_query"]}"
model = "gpt-x"
api_key = "{SECRETS["provider_key"]}"
headers = {{ "api-key" = "{SECRETS["provider_header"]}", "api-version" = "2024-06-01" }}

[telemetry]
otlp_endpoint = "https://otel:{SECRETS["otlp_password"]}@collector.example.com:4318/v1/traces"
otlp_headers = {{ "Authorization" = "Bearer {SECRETS["otlp_header"]}" }}

[monitoring]
webhook_url = "https://hooks.slack.com/services/{SECRETS["webhook_path"]}"
"""


@pytest.fixture(autouse=True)
def _clean_env(clean_settings_env: None) -> None:
    """Every test here starts from no GROUNDWIRE_* variables and no config file."""


def test_config_show_prints_no_secret(tmp_path: Path) -> None:
    from groundwire.cli.main import app

    config = tmp_path / "groundwire.toml"
    config.write_text(TOML)
    result = CliRunner().invoke(app, ["config", "show", "--config", str(config)])
    assert result.exit_code == 0, result.output
    for name, value in SECRETS.items():
        for part in value.split("/"):  # the webhook's path segments each count
            if len(part) > 4:
                assert part not in result.output, f"{name} shown by config show"
    shown = json.loads(result.stdout)
    provider = shown["llm"]["providers"][0]
    # What is not secret stays readable, so the output is still useful.
    assert provider["headers"]["api-version"] != SECRETS["provider_header"]
    assert set(provider["headers"]) == {"api-key", "api-version"}
    assert provider["base_url"].startswith("https://svc:")
    assert "llm.example.com/v1" in provider["base_url"]
    assert shown["database_url"].endswith("@db.internal:5432/gw")
    assert shown["monitoring"]["webhook_url"].startswith("https://hooks.slack.com/")
    assert set(shown["telemetry"]["otlp_headers"]) == {"Authorization"}


def _fields(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str, Any]]:
    """(dotted path, Class.field, FieldInfo) of every field, entering nested sections and the
    models inside ``list[...]`` / ``dict[str, ...]``."""
    for name, field in model.model_fields.items():
        yield f"{prefix}{name}", f"{model.__name__}.{name}", field
        annotation = field.annotation
        candidates = [annotation, *get_args(annotation)]
        if get_origin(annotation) in (list, dict):
            candidates = [get_args(annotation)[-1]]
        for inner in candidates:
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                yield from _fields(inner, f"{prefix}{name}.")


def _can_hold_text(annotation: Any) -> bool:
    """str anywhere in the annotation (``str | None``, ``dict[str, str]``, ``list[str]``):
    numbers, booleans and nested sections hold no credential themselves."""
    if annotation is str or annotation is SecretStr:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return False
    args = get_args(annotation)
    if get_origin(annotation) is dict:
        args = args[-1:]
    return any(_can_hold_text(a) for a in args)


def _is_secret_str(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in get_args(annotation)


def test_every_secret_looking_field_is_marked() -> None:
    unmarked = []
    for path, qualified, field in _fields(Settings, ""):
        kind = secret_kind(field)
        if kind is not None:
            assert kind in SECRET_KINDS, f"{path}: unknown secret kind {kind!r}"
            continue
        if _is_secret_str(field.annotation):
            unmarked.append(f"{path} (SecretStr without a marker: config show must know how "
                            "to mask it)")
        elif (_can_hold_text(field.annotation) and qualified not in NOT_SECRET
              and SECRET_WORDS & set(path.rsplit(".", 1)[-1].lower().split("_"))):
            unmarked.append(path)
    assert not unmarked, (
        "settings fields that look secret-bearing but carry no "
        "json_schema_extra={'secret': kind} marker: " + ", ".join(unmarked))


def test_the_walk_sees_the_nested_secret_fields() -> None:
    """The guard above is only as good as its walk: it must reach list/dict entries."""
    paths = {path for path, _, _ in _fields(Settings, "")}
    assert {"llm.providers.headers", "llm.providers.base_url", "llm.providers.api_key",
            "telemetry.otlp_headers", "monitoring.webhook_url", "database.read_url",
            "database_url"} <= paths


def test_masked_keeps_non_secret_values() -> None:
    settings = Settings(telemetry={"otlp_endpoint": "http://collector:4318/v1/traces"})
    data = masked(settings)
    assert data["telemetry"]["otlp_endpoint"] == "http://collector:4318/v1/traces"
    assert data["chunking"]["max_tokens"] == settings.chunking.max_tokens
