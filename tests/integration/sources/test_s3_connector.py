"""The s3 connector against a real S3 API: moto in server mode on 127.0.0.1 (the S3 service
cannot be reached from the test machines; ``tests/s3_harness.py``), with boto3 signing every
request as for AWS or MinIO. The shared lifecycle (first sync, no-change sync, one change,
one deletion, an outage) runs in ``tests/contract/test_connector_contract.py`` (``s3``
harness). Here: a named source whose credentials the server checks (``env:``/``file:``
references; a clear secret refused; a wrong secret refused with a code, deleting nothing);
listing specifics (pagination, directory markers, the prefix, globs); ETag change detection;
per-object errors (raced deletion, an IAM policy denying one key, the server down); one
GET per object read twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from s3_harness import S3Harness

from groundwire.errors import InvalidRequest, ReadError
from groundwire.ingest.connectors import s3
from groundwire.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def bucket(tmp_path: Path) -> Iterator[S3Harness]:
    harness = S3Harness(tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def _connector(harness: S3Harness, settings: Settings, **extra: Any) -> s3.S3Connector:
    options = {**harness.options(), "access_key_id": "test-key-id",
               "secret_access_key": "test-secret-key", **extra}
    return s3.from_options(options, settings)


def _gets(connector: s3.S3Connector) -> list[str]:
    """The keys of every GetObject the connector's client sends from now on."""
    seen: list[str] = []
    connector.client().meta.events.register(
        "before-call.s3.GetObject", lambda params, **_: seen.append(params["url_path"]))
    return seen


def test_listing_pages_skips_markers_and_reads_lazily(bucket: S3Harness,
                                                      settings: Settings) -> None:
    bucket.put("docs/notes/delta.txt", "Delta is plain text about the copper kettle.")
    bucket.put("docs/notes/ümlaut & space.md", "# Ümlaut\n\nKeys are any UTF-8 text.")
    bucket.put("docs/.hidden.md", "# Hidden\n\nexcluded by ingest.exclude")
    connector = _connector(bucket, settings)
    connector.page_size = 2  # six objects and two markers: four ListObjectsV2 pages
    items = list(connector.items())
    assert [i.uri for i in items] == [f"s3://{bucket.bucket}/docs/{k}" for k in (
        "alpha.md", "beta.md", "gamma.md", "notes/delta.txt", "notes/ümlaut & space.md")]
    assert connector.source == ("s3", f"s3://{bucket.bucket}/docs/?endpoint="
                                      f"{bucket.s3.endpoint}")
    alpha = items[0]
    assert alpha.media_type == "text/markdown" and items[3].media_type == "text/plain"
    assert alpha.metadata["key"] == "docs/alpha.md" and alpha.size and alpha.modified_at
    gets = _gets(connector)
    assert gets == []  # listing downloaded nothing
    assert b"harbour lantern" in alpha.read() and alpha.read() == alpha.read()
    assert len(gets) == 2  # hashed then parsed: one GET; the third read fetches again

    only = _connector(bucket, settings, include=["notes/**"])
    assert [i.uri for i in only.items()] == [f"s3://{bucket.bucket}/docs/notes/delta.txt",
                                             f"s3://{bucket.bucket}/docs/notes/ümlaut & space.md"]
    assert b"UTF-8" in list(only.items())[1].read()


def test_etag_change_detection_and_deletion(bucket: S3Harness, settings: Settings) -> None:
    connector = _connector(bucket, settings)
    first = connector.changes(None)
    assert first.complete and len(first.items) == 3
    second = connector.changes(first.cursor)
    assert not second.complete and second.items == [] and second.deleted == []

    bucket.change("alpha", "Alpha now documents the zebracorn.")
    bucket.delete("beta")
    third = connector.changes(second.cursor)
    assert [i.uri for i in third.items] == [bucket.uri("alpha")]
    assert third.deleted == [bucket.uri("beta")]
    assert b"zebracorn" in third.items[0].read()

    # other readers: the cursor no longer fits, the listing is complete again
    wider = _connector(bucket, settings, readers=["group:eng"])
    fourth = wider.changes(third.cursor)
    assert fourth.complete and len(fourth.items) == 2
    assert all(i.permissions and i.permissions.groups == ("eng",) for i in fourth.items)


def test_listing_failures_are_coded_and_raise_before_anything(bucket: S3Harness,
                                                              settings: Settings) -> None:
    with bucket.outage(), pytest.raises(InvalidRequest) as down:
        _connector(bucket, settings).changes(None)
    assert down.value.code == "s3.unreachable" and "[s3.unreachable]" in down.value.message
    with pytest.raises(InvalidRequest) as missing:
        _connector(bucket, settings, bucket="gw-no-such-bucket").changes(None)
    assert missing.value.code == "s3.no_such_bucket"


def test_one_object_failing_fails_alone_with_a_code(bucket: S3Harness,
                                                    settings: Settings) -> None:
    bucket.client.put_object(Bucket=bucket.bucket, Key="docs/cold.md", Body=b"# Cold",
                             StorageClass="GLACIER")
    items = {i.uri: i for i in _connector(bucket, settings).items()}
    with pytest.raises(ReadError) as archived:
        items[f"s3://{bucket.bucket}/docs/cold.md"].read()
    assert archived.value.code == "read.archived"
    bucket.delete("beta")  # raced: gone between listing and reading
    with pytest.raises(ReadError) as gone:
        items[bucket.uri("beta")].read()
    assert gone.value.code == "read.not_found"
    with bucket.outage(), pytest.raises(ReadError) as down:
        items[bucket.uri("gamma")].read()
    assert down.value.code == "read.io_error"
    assert b"harbour lantern" in items[bucket.uri("alpha")].read()


def _iam_key(bucket: S3Harness, *denied_keys: str) -> dict[str, str]:
    """A real access key of an IAM user allowed s3:* on moto's server, except GetObject of
    ``denied_keys``."""
    import boto3

    iam = boto3.client("iam", endpoint_url=bucket.s3.endpoint, region_name="us-east-1",
                       aws_access_key_id="test-key-id", aws_secret_access_key="test-secret")
    user = f"reader-{bucket.bucket}-{len(denied_keys)}"
    statements: list[dict[str, Any]] = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
    if denied_keys:
        statements.append({"Effect": "Deny", "Action": "s3:GetObject", "Resource": [
            f"arn:aws:s3:::{bucket.bucket}/{key}" for key in denied_keys]})
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def test_an_object_the_policy_denies_fails_alone(bucket: S3Harness, settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import moto.settings

    key = _iam_key(bucket, "docs/gamma.md")
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # policies apply
    items = {i.uri: i for i in _connector(bucket, settings, access_key_id=key["id"],
                                          secret_access_key=key["secret"]).items()}
    assert len(items) == 3  # listing is allowed
    with pytest.raises(ReadError) as denied:
        items[bucket.uri("gamma")].read()
    assert denied.value.code == "read.access_denied"
    assert b"harbour lantern" in items[bucket.uri("alpha")].read()


async def test_acceptance_with_checked_credentials(bucket: S3Harness, make_settings: Any,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    import moto.settings

    from groundwire.bootstrap import build_app
    from groundwire.sources.errors import SourceUnreachable
    from groundwire.sources.service import SourceService

    key = _iam_key(bucket)
    secret_file = tmp_path / "s3-secret"
    secret_file.write_text(key["secret"] + "\n")
    monkeypatch.setenv("GW_TEST_S3_IAM_KEY", key["id"])
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # signatures checked
    bucket.client = bucket.s3.client(key["id"], key["secret"])  # the test's own writes
    options = {**bucket.options(), "access_key_id": "env:GW_TEST_S3_IAM_KEY",
               "secret_access_key": f"file:{secret_file}"}
    settings = make_settings(embedding={"provider": "fake", "model": "fake-32"},
                             autotune={"enabled": False})

    async with build_app(settings) as gw:
        sources = SourceService(gw)
        with pytest.raises(InvalidRequest) as clear:
            await sources.add("bad", "s3", {**options, "secret_access_key": key["secret"]})
        assert clear.value.code == "source.secret_in_clear"
        view = await sources.add("bucket", "s3", options, index="docs")
        assert view["options"]["secret_access_key"] == f"file:{secret_file}"

        first = await sources.sync("bucket")  # the lifecycle: the connector contract
        assert first["documents"]["indexed"] == 3 and first["chunks_embedded"] > 0, first

        secret_file.write_text("a-wrong-secret-access-key\n")  # the key rotated badly
        before = (await sources.get("bucket"))["documents"]
        with pytest.raises(SourceUnreachable) as refused:
            await sources.sync("bucket")
        assert "access denied" in refused.value.message
        assert refused.value.message.endswith("[s3.access_denied]")
        assert "a-wrong-secret-access-key" not in refused.value.message
        view = await sources.get("bucket")
        assert view["last_status"] == "unreachable"
        assert view["last_error"]["code"] == "source.unreachable"
        assert view["documents"] == before == {"indexed": 3}  # nothing deleted

        secret_file.write_text(key["secret"])
        after = await sources.sync("bucket")
        assert after["chunks_embedded"] == 0 and after["documents"]["deleted"] == 0, after
        assert after["changes"] == {"complete": False, "retried_failed": False, "objects": 3,
                                    "changed": 0, "deleted": 0}
