"""A real S3 API for the s3 connector's tests: moto in server mode on 127.0.0.1 (not a conftest).

The S3 service itself cannot be reached from the test machines, so ``MotoS3`` runs moto's
S3 implementation as a real HTTP server (``ThreadedMotoServer``) on a free loopback port;
the connector talks to it through boto3 exactly as to AWS or MinIO (``endpoint_url``).
``stop()``/``start()`` take it down and bring it back on the same port with its data (moto
keeps its state in the process), which is how ``outage()`` works. ``S3Harness`` is the
connector contract's harness (``sources_harness.HARNESSES["s3"]``): a bucket with the
contract's documents under ``docs/``, plus a directory marker and a key outside the prefix
that the connector must skip. Credentials reach the connector as ``env:`` references.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sources_harness import Harness, body

KEY_ID_ENV, SECRET_ENV = "GW_TEST_S3_KEY_ID", "GW_TEST_S3_SECRET"


class MotoS3:
    """moto's S3 as a real server on 127.0.0.1 (see the module docstring)."""

    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = 0
        self.server: Any = None
        self.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.port = int(self.server.get_host_and_port()[1])

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def client(self, key_id: str = "test-key-id", secret: str = "test-secret-key") -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=key_id, aws_secret_access_key=secret)

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        self.stop()
        try:
            yield
        finally:
            self.start()


class S3Harness(Harness):
    kind = "s3"

    def __init__(self, root: Path) -> None:
        self.s3 = MotoS3()
        self.bucket = f"gw-{uuid.uuid4().hex[:12]}"  # moto's state is per process
        self.client = self.s3.client()
        self.client.create_bucket(Bucket=self.bucket)
        self._saved = {k: os.environ.get(k) for k in (KEY_ID_ENV, SECRET_ENV)}
        os.environ[KEY_ID_ENV], os.environ[SECRET_ENV] = "test-key-id", "test-secret-key"
        for key in self.initial:
            self.put(f"docs/{key}.md", f"# {key}\n\n{body(key)}\n")
        self.put("docs/", "")  # a "directory" marker: skipped
        self.put("docs/drafts/", "")
        self.put("outside/ignored.md", "# Outside\n\nNot under the prefix.\n")

    def put(self, key: str, text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def options(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "prefix": "docs/", "endpoint_url": self.s3.endpoint,
                "region": "us-east-1", "access_key_id": f"env:{KEY_ID_ENV}",
                "secret_access_key": f"env:{SECRET_ENV}", "max_attempts": 1, "timeout_s": 5}

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/docs/{key}.md"

    def change(self, key: str, text: str) -> None:
        self.put(f"docs/{key}.md", f"# {key}\n\n{text}\n")

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=f"docs/{key}.md")

    def add_failing(self) -> tuple[dict[str, Any], str, str]:
        self.put("docs/big.md", "# Big\n\n" + "word " * 2000)
        return ({**self.options(), "max_bytes": 4000}, f"s3://{self.bucket}/docs/big.md",
                "read.too_large")

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        with self.s3.down():
            yield

    def close(self) -> None:
        self.s3.stop()
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
