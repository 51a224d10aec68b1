"""The s3 connector's factory: option validation, defaults and identity, with no I/O (the
connector against a real S3 API: tests/integration/sources/test_s3_connector.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from groundwire.errors import ConfigurationError, InvalidRequest
from groundwire.ingest.connectors import s3
from groundwire.settings import Settings
from groundwire.sources.secrets import check_no_clear_secrets


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def test_defaults_and_identity(settings: Settings) -> None:
    from groundwire.registry import connectors

    connector = connectors().get("s3")({"bucket": "team-docs", "prefix": "/handbook/"},
                                       settings)
    assert isinstance(connector, s3.S3Connector)
    assert connector.source == ("s3", "s3://team-docs/handbook/")
    assert connector.uri("handbook/a.md") == "s3://team-docs/handbook/a.md"
    assert connector.max_bytes == int(settings.ingest.max_file_mb * 1024 * 1024)
    assert connector.include == list(settings.ingest.include)
    assert connector.exclude == list(settings.ingest.exclude)
    assert connector.credentials == s3.S3Credentials()  # boto3's default chain
    assert connector._client is None  # building does no I/O

    minio = s3.from_options({"bucket": "team-docs", "endpoint_url": "http://minio:9000/",
                             "access_key_id": "AKIAEXAMPLE", "secret_access_key": "s3cr3t-v4lue",
                             "max_bytes": 1000, "exclude": []}, settings)
    assert minio.source == ("s3", "s3://team-docs/?endpoint=http://minio:9000")
    assert minio.max_bytes == 1000 and minio.exclude == []
    assert "s3cr3t-v4lue" not in repr(minio.credentials) + repr(minio.source)


@pytest.mark.parametrize("options, why", [
    ({"prefix": "x/"}, "bucket"),
    ({"bucket": "a/b"}, "bucket"),
    ({"bucket": "docs", "colour": "red"}, "unknown option"),
    ({"bucket": "docs", "access_key_id": "AKIA"}, "both"),
    ({"bucket": "docs", "session_token": "t"}, "session_token"),
    ({"bucket": "docs", "anonymous": "yes"}, "anonymous"),
    ({"bucket": "docs", "anonymous": True, "access_key_id": "a", "secret_access_key": "b"},
     "anonymous"),
    ({"bucket": "docs", "endpoint_url": "ftp://host"}, "endpoint_url"),
    ({"bucket": "docs", "endpoint_url": "http://user:pw@host"}, "credentials"),
    ({"bucket": "docs", "max_bytes": 0}, "max_bytes"),
    ({"bucket": "docs", "max_bytes": True}, "max_bytes"),
    ({"bucket": "docs", "timeout_s": "soon"}, "timeout_s"),
    ({"bucket": "docs", "include": "*.md"}, "include"),
    ({"bucket": "docs", "readers": {"groups": ["eng"], "tenant": "other"}}, "tenant"),
    ({"bucket": "docs", "readers": {"roles": ["x"]}}, "readers"),
])
def test_bad_options_are_configuration_errors(options: dict[str, Any], why: str,
                                              settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match=why) as caught:
        s3.from_options(options, settings)
    assert caught.value.code == "config.invalid"


def test_readers_apply_to_every_document(settings: Settings) -> None:
    connector = s3.from_options({"bucket": "docs", "readers": ["group:eng", "user:ann"]},
                                settings)
    assert connector.readers is not None
    assert connector.readers.groups == ("eng",) and connector.readers.users == ("ann",)


def test_secrets_must_be_references() -> None:
    for key in ("secret_access_key", "session_token"):
        with pytest.raises(InvalidRequest) as caught:
            check_no_clear_secrets({"bucket": "docs", key: "clear-value"})
        assert caught.value.code == "source.secret_in_clear"
    check_no_clear_secrets({"bucket": "docs", "access_key_id": "env:KEY_ID",
                            "secret_access_key": "file:/run/secrets/s3"})
