"""An S3 bucket (AWS or any S3-compatible store: MinIO, Ceph, R2...) under a prefix, via boto3.

* Listing: ``ListObjectsV2`` with pagination under ``prefix``, in key order; "directory"
  keys ending in ``/`` are skipped; ``include``/``exclude`` globs (as the folder
  connector's, ``glob_match``) are matched against the key relative to ``prefix``. Each
  object is an item with ``uri`` ``s3://<bucket>/<key>``, its media type decided by the key's
  extension (as a folder file's), its ``LastModified`` and size; reading is lazy (one
  ``GetObject``, at most ``max_bytes + 1`` bytes streamed).
* Change detection (``IncrementalConnector``): the cursor keeps each key's ``[ETag, size]``
  and a fingerprint of the options that shape items (bucket, prefix, globs, ``max_bytes``,
  ``readers``). The next sync lists the bucket again (listing downloads nothing) and yields
  only the keys whose ETag or size changed or that are new; keys listed last time and gone
  now are the deleted uris. No cursor, or one made with other options: a complete listing.
* Outage: when the bucket cannot be listed — endpoint unreachable or timing out
  (``s3.unreachable``), credentials refused (``s3.access_denied``), no credentials at all
  (``s3.no_credentials``), bucket gone (``s3.no_such_bucket``) — listing raises
  ``InvalidRequest`` before any item is yielded: nothing is deleted.
* One object failing fails alone (its ``read()`` raises ``ReadError``): ``read.too_large``
  (over ``max_bytes``), ``read.not_found`` (deleted between listing and reading),
  ``read.access_denied``, ``read.archived`` (Glacier: not restored), ``read.io_error``.
* Credentials: ``access_key_id`` / ``secret_access_key`` / ``session_token`` given as
  ``env:VAR`` or ``file:/path`` references (``groundwire.sources.secrets``: resolved at sync
  time, never stored in clear); none given: boto3's default chain (environment, shared
  config, instance role); ``anonymous``: unsigned requests (public buckets). Credentials
  never appear in ``source``, a uri or a message.
* Permissions: S3 object ACLs are not mapped. Every item carries the source's ``readers``
  option when given; otherwise the document's front matter or ``security.default_readers``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from groundwire.domain import Permissions, SourceItem, parse_permissions
from groundwire.errors import ConfigurationError, InvalidRequest, ReadError
from groundwire.ingest.connectors.changes import ChangeSet
from groundwire.ingest.connectors.folder import glob_match
from groundwire.ingest.parsers.media_types import media_type_for

if TYPE_CHECKING:
    from groundwire.settings import Settings

S3_OPTIONS = frozenset({
    "bucket", "prefix", "endpoint_url", "region", "access_key_id", "secret_access_key",
    "session_token", "anonymous", "include", "exclude", "max_bytes", "timeout_s",
    "max_attempts", "readers",
})
_DENIED = frozenset({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                     "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
                     "AllAccessDisabled", "InvalidClientTokenId"})
_CACHE_BYTES = 32 * 1024 * 1024  # bytes read once and kept for the parser's second read


@dataclass(frozen=True, slots=True)
class S3Credentials:
    """Explicit credentials (resolved values: never shown); all None: boto3's chain."""

    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    anonymous: bool = False

    def __repr__(self) -> str:  # never print a credential
        return f"S3Credentials(explicit={self.access_key_id is not None}, anon={self.anonymous})"


@dataclass(frozen=True, slots=True)
class _ObjectReader:
    """``SourceItem.read`` for one object: the size cap, coded per-object errors."""

    connector: S3Connector
    key: str
    uri: str
    size: int

    def __call__(self) -> bytes:
        limit = self.connector.max_bytes
        if self.size > limit:
            raise ReadError(f"{self.uri}: {self.size} bytes exceeds the limit of {limit} bytes",
                            code="read.too_large")
        cached = self.connector._cached(self.key)
        if cached is not None:
            return cached
        data = self.connector._get(self.key, self.uri)
        self.connector._keep(self.key, data)
        return data


class S3Connector:
    """The objects of ``bucket`` under ``prefix`` (see the module docstring)."""

    def __init__(self, bucket: str, prefix: str, *, endpoint_url: str | None,
                 region: str | None, credentials: S3Credentials, include: list[str],
                 exclude: list[str], max_bytes: int, timeout_s: float, max_attempts: int,
                 readers: Permissions | None) -> None:
        self.bucket, self.prefix = bucket, prefix
        self.endpoint_url, self.region = endpoint_url, region
        self.credentials = credentials
        self.include, self.exclude = include, exclude
        self.max_bytes, self.timeout_s, self.max_attempts = max_bytes, timeout_s, max_attempts
        self.readers = readers
        self.page_size: int | None = None  # ListObjectsV2 MaxKeys (None: the store's 1000)
        self._client: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = 0

    @property
    def source(self) -> tuple[str, str]:
        """``("s3", "s3://<bucket>/<prefix>")``, with ``?endpoint=<url>`` for a non-AWS store
        (the same bucket name on two stores is two sources). Never a credential."""
        location = f"s3://{self.bucket}/{self.prefix}"
        if self.endpoint_url:
            location += f"?endpoint={self.endpoint_url}"
        return ("s3", location)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    # ------------------------------------------------------------------ client
    def client(self) -> Any:
        """The boto3 S3 client (built once; boto3 clients are thread-safe)."""
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def _build_client(self) -> Any:
        try:
            import boto3
            from botocore import UNSIGNED
            from botocore.config import Config
        except ImportError as exc:  # pragma: no cover - boto3 is a dependency
            raise ConfigurationError("s3 connector: boto3 is missing (pip install boto3)") from exc
        creds = self.credentials
        session = boto3.session.Session(
            aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
            aws_session_token=creds.session_token, region_name=self.region)
        config = Config(
            connect_timeout=self.timeout_s, read_timeout=self.timeout_s,
            retries={"max_attempts": self.max_attempts, "mode": "standard"},
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            **({"signature_version": UNSIGNED} if creds.anonymous else {}))
        return session.client("s3", endpoint_url=self.endpoint_url, config=config)

    # ------------------------------------------------------------------ listing
    def _selected(self, key: str) -> bool:
        relative = key[len(self.prefix):].lstrip("/")
        if self.include and not any(glob_match(p, relative) for p in self.include):
            return False
        return not any(glob_match(p, relative) for p in self.exclude)

    def _list(self) -> list[dict[str, Any]]:
        """Every selected object (``Key``, ``ETag``, ``Size``, ``LastModified``) in key order;
        ``InvalidRequest`` with an ``s3.*`` code when the bucket cannot be listed."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        found: list[dict[str, Any]] = []
        try:
            pages = self.client().get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix,
                PaginationConfig={"PageSize": self.page_size} if self.page_size else {})
            for page in pages:
                for obj in page.get("Contents") or ():
                    key = str(obj["Key"])
                    if not key.endswith("/") and self._selected(key):
                        found.append(obj)
        except NoCredentialsError as exc:
            raise self._failure("s3.no_credentials", "no credentials (give access_key_id and "
                                "secret_access_key as env:/file: references, or set "
                                "anonymous)") from exc
        except ClientError as exc:
            raise self._listing_error(exc) from exc
        except BotoCoreError as exc:  # connection refused, timeouts, DNS...
            raise self._failure("s3.unreachable",
                                f"cannot reach {self.endpoint_url or 'S3'}: {exc}") from exc
        found.sort(key=lambda o: str(o["Key"]))
        return found

    def _failure(self, code: str, why: str) -> InvalidRequest:
        """A listing failure; its code is also in the message (a sync reports it as
        ``source.unreachable`` with this message)."""
        return InvalidRequest(f"s3://{self.bucket}: {why} [{code}]", code=code)

    def _listing_error(self, exc: Any) -> InvalidRequest:
        error = exc.response.get("Error") or {}
        code = str(error.get("Code") or "")
        status = int((exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
        why = f"{code or status}: {error.get('Message') or exc}"
        if code in _DENIED or status in (401, 403):
            return self._failure("s3.access_denied", f"access denied ({why})")
        if code == "NoSuchBucket":
            return self._failure("s3.no_such_bucket", "no such bucket")
        return self._failure("s3.unreachable", f"cannot list ({why})")

    def _item(self, obj: Mapping[str, Any]) -> SourceItem:
        key, size = str(obj["Key"]), int(obj.get("Size") or 0)
        uri = self.uri(key)
        modified = obj.get("LastModified")
        return SourceItem(
            uri=uri, media_type=media_type_for(key),
            read=_ObjectReader(self, key, uri, size),
            modified_at=modified.astimezone(UTC) if isinstance(modified, datetime) else None,
            size=size, permissions=self.readers,
            metadata={"bucket": self.bucket, "key": key, "url": uri})

    def _fingerprint(self) -> str:
        shape = [self.source[1], self.include, self.exclude, self.max_bytes,
                 self.readers.as_json() if self.readers else None]
        return hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()
                              ).hexdigest()[:16]

    def changes(self, cursor: dict[str, Any] | None) -> ChangeSet:
        """What changed since ``cursor`` (see the module docstring); raises before yielding
        anything when the bucket cannot be listed."""
        listed = self._list()
        fingerprint = self._fingerprint()
        now = {str(o["Key"]): [str(o.get("ETag") or ""), int(o.get("Size") or 0)]
               for o in listed}
        previous = (cursor or {}).get("objects")
        usable = isinstance(previous, dict) and (cursor or {}).get("options") == fingerprint
        next_cursor = {"options": fingerprint, "objects": now}
        if not usable or not isinstance(previous, dict):
            return ChangeSet(items=[self._item(o) for o in listed], cursor=next_cursor,
                             complete=True, notes={"objects": len(listed),
                                                   "changed": len(listed), "deleted": 0})
        items = [self._item(o) for o in listed
                 if list(previous.get(str(o["Key"])) or ()) != now[str(o["Key"])]]
        deleted = sorted(self.uri(k) for k in set(previous) - set(now))
        return ChangeSet(items=items, deleted=deleted, cursor=next_cursor, complete=False,
                         notes={"objects": len(listed), "changed": len(items),
                                "deleted": len(deleted)})

    def items(self) -> Iterator[SourceItem]:
        """Every selected object (a complete listing), in key order."""
        return iter(self.changes(None).items)

    # ------------------------------------------------------------------ reading
    def _get(self, key: str, uri: str) -> bytes:
        """One object's bytes (at most ``max_bytes``); ``ReadError`` with a code."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client().get_object(Bucket=self.bucket, Key=key)
            body = response["Body"]
            try:
                data: bytes = body.read(self.max_bytes + 1)
            finally:
                body.close()
        except ClientError as exc:
            error = exc.response.get("Error") or {}
            code = str(error.get("Code") or "")
            status = int((exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
                         or 0)
            if code in ("NoSuchKey", "NotFound") or status == 404:
                raise ReadError(f"{uri}: no longer exists", code="read.not_found") from exc
            if code == "InvalidObjectState":  # Glacier / Deep Archive: restore it first
                raise ReadError(f"{uri}: archived ({code})", code="read.archived") from exc
            if code in _DENIED or status in (401, 403):
                raise ReadError(f"{uri}: access denied ({code or status})",
                                code="read.access_denied") from exc
            raise ReadError(f"{uri}: cannot read ({code or status})",
                            code="read.io_error") from exc
        except BotoCoreError as exc:
            raise ReadError(f"{uri}: cannot read: {exc}", code="read.io_error") from exc
        if len(data) > self.max_bytes:  # the object grew since it was listed
            raise ReadError(f"{uri}: more than {self.max_bytes} bytes exceeds the limit of "
                            f"{self.max_bytes} bytes", code="read.too_large")
        return data

    def _cached(self, key: str) -> bytes | None:
        """The bytes of ``key`` read once already (the pipeline hashes, then parses), taken
        out of the cache: a third read downloads again."""
        with self._lock:
            data = self._cache.pop(key, None)
            if data is not None:
                self._cache_size -= len(data)
            return data

    def _keep(self, key: str, data: bytes) -> None:
        """Keep ``data`` for the next read of ``key``, oldest dropped beyond 32 MiB."""
        if len(data) > _CACHE_BYTES:
            return
        with self._lock:
            self._cache[key] = data
            self._cache_size += len(data)
            while self._cache_size > _CACHE_BYTES:
                _, old = self._cache.popitem(last=False)
                self._cache_size -= len(old)


def _text(options: Mapping[str, Any], key: str) -> str | None:
    if (value := options.get(key)) is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"s3 connector: option {key!r} must be a string")
    return value


def _globs(options: Mapping[str, Any], key: str) -> list[str] | None:
    if (value := options.get(key)) is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"s3 connector: option {key!r} must be a list of globs")
    return list(value)


def _positive(options: Mapping[str, Any], key: str, default: float, kind: type) -> Any:
    if (value := options.get(key)) is None:
        return kind(default)
    allowed = int if kind is int else (int, float)
    if isinstance(value, bool) or not isinstance(value, allowed) or value <= 0:
        raise ConfigurationError(f"s3 connector: option {key!r} must be a positive "
                                 f"{'integer' if kind is int else 'number'}, got {value!r}")
    return kind(value)


def _readers(options: Mapping[str, Any]) -> Permissions | None:
    if (value := options.get("readers")) is None:
        return None
    try:
        readers = parse_permissions(value)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"s3 connector: option 'readers': {exc}") from exc
    if readers.tenant is not None:
        raise ConfigurationError("s3 connector: option 'readers' may not name a tenant "
                                 "(documents belong to the source's tenant)")
    return readers


def _credentials(options: Mapping[str, Any]) -> S3Credentials:
    key_id = _text(options, "access_key_id")
    secret = _text(options, "secret_access_key")
    token = _text(options, "session_token")
    anonymous = options.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise ConfigurationError("s3 connector: option 'anonymous' must be true or false")
    if (key_id is None) != (secret is None):
        raise ConfigurationError("s3 connector: give both access_key_id and "
                                 "secret_access_key, or neither (boto3's default chain)")
    if token is not None and key_id is None:
        raise ConfigurationError("s3 connector: session_token needs access_key_id and "
                                 "secret_access_key")
    if anonymous and key_id is not None:
        raise ConfigurationError("s3 connector: 'anonymous' excludes access keys")
    return S3Credentials(key_id, secret, token, anonymous)


def from_options(options: Mapping[str, Any], settings: Settings) -> S3Connector:
    """The ``s3`` connector factory (entry point ``groundwire.connectors: s3``).

    ``bucket`` (required), ``prefix`` (default: the whole bucket), ``endpoint_url`` (an
    http(s) URL: MinIO or another S3-compatible store; path-style addressing), ``region``,
    ``access_key_id`` + ``secret_access_key`` (+ ``session_token``): resolved values of
    ``env:``/``file:`` references (absent: boto3's default chain), ``anonymous`` (unsigned
    requests), ``include``/``exclude`` (globs against the key relative to ``prefix``;
    defaults ``ingest.include``/``ingest.exclude``), ``max_bytes`` (default
    ``ingest.max_file_mb``), ``timeout_s`` (connect and read, default 20), ``max_attempts``
    (per request, retries included, default 3), ``readers`` (permissions given to every
    document, as ``domain.access.parse_permissions`` reads them; no ``tenant``). Anything
    else, or an ill-typed value: ``ConfigurationError``. No I/O (the client is built at the
    first listing)."""
    unknown = sorted(set(options) - S3_OPTIONS)
    if unknown:
        raise ConfigurationError(f"s3 connector: unknown option(s) {', '.join(unknown)} "
                                 f"(known: {', '.join(sorted(S3_OPTIONS))})")
    bucket = _text(options, "bucket")
    if bucket is None or "/" in bucket or not 3 <= len(bucket) <= 255:
        raise ConfigurationError(f"s3 connector: option 'bucket' (a bucket name) is required, "
                                 f"got {options.get('bucket')!r}")
    prefix = (_text(options, "prefix") or "").lstrip("/")
    endpoint = _text(options, "endpoint_url")
    if endpoint is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError("s3 connector: 'endpoint_url' must be an http(s) URL")
        if parts.username or parts.password:
            raise ConfigurationError("s3 connector: 'endpoint_url' may not hold credentials")
        endpoint = endpoint.rstrip("/")
    cfg = settings.ingest
    include = _globs(options, "include") or list(cfg.include)
    exclude = _globs(options, "exclude")
    return S3Connector(
        bucket, prefix, endpoint_url=endpoint, region=_text(options, "region"),
        credentials=_credentials(options), include=include,
        exclude=list(cfg.exclude) if exclude is None else exclude,
        max_bytes=_positive(options, "max_bytes", int(cfg.max_file_mb * 1024 * 1024), int),
        timeout_s=_positive(options, "timeout_s", 20.0, float),
        max_attempts=_positive(options, "max_attempts", 3, int),
        readers=_readers(options))
