"""What a source added by someone other than the operator may reach from the server.

A source is fetched *by the server*, with the server's network position and identity. An
admin of another tenant must not use one to read what only the server can reach: the
embedded PostgreSQL's Unix socket (trust authentication: every tenant's rows), services on
loopback, the cloud metadata address (169.254.169.254), or a bucket through the server's own
AWS credentials. ``refusal(type, options)`` names what a non-operator source would reach that
way (None: nothing). The operator (an admin of the default tenant) is not checked.

Checked without DNS: URLs whose host is missing (a Unix socket, a file), a local name
(``localhost``), or a loopback, link-local, unspecified, multicast or reserved address; SQL
URLs that pass a socket or host in their query string; ``s3`` without ``anonymous: true`` (it
would sign with the server's credential chain). A host *name* that resolves to an internal
address is not caught here (the answer could change after the check): keep the server's
egress to internal networks closed by network policy if other tenants add sources
(docs/security.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_URL_OPTIONS = {"web": ("url",), "confluence": ("url",), "zendesk": ("url",),
                "s3": ("endpoint_url",)}
# libpq / MySQL driver query parameters that choose the server (a socket path or a host).
_SQL_HOST_PARAMS = {"host", "hostaddr", "unix_socket", "unix_sock", "service"}


def host_refusal(host: str | None) -> str | None:
    """Why ``host`` is off limits to a non-operator source, or None."""
    if not host:
        return "a URL without a network host (a Unix socket or a local file)"
    name = host.strip("[]").lower().rstrip(".")
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return f"the server's own host ({host})"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None  # a host name: not resolved here (module docstring)
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    if (address.is_loopback or address.is_link_local or address.is_unspecified
            or address.is_multicast or address.is_reserved):
        return f"an address only the server can reach ({host})"
    return None


def _sql_refusal(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # the connector reports the malformed URL itself
    if parsed.get_backend_name() == "sqlite":
        return "sqlite files on the server"
    if _SQL_HOST_PARAMS & {k.lower() for k in parsed.query}:
        return "a database chosen by the URL's query string (a socket or host parameter)"
    return host_refusal(parsed.host)


def refusal(source_type: str, options: Mapping[str, Any]) -> str | None:
    """What a non-operator source of ``source_type`` with ``options`` would reach that only
    the server may (see the module docstring), or None."""
    if source_type == "sql" and isinstance(options.get("url"), str):
        return _sql_refusal(options["url"])
    if source_type == "s3" and options.get("anonymous") is not True:
        return "s3 through the server's own AWS credentials (use anonymous: true)"
    for key in _URL_OPTIONS.get(source_type, ()):
        value = options.get(key)
        if isinstance(value, str):
            reason = host_refusal(urlsplit(value).hostname)
            if reason is not None:
                return reason
    return None
