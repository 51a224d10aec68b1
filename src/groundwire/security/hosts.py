"""Loopback checks for dev mode: the bind address, and every request's ``Host`` header.

Dev mode lets requests without a key act as an admin. Binding to loopback keeps other machines
out, but not a web page in the developer's own browser: through DNS rebinding, a page on
``evil.example`` can make ``evil.example`` resolve to 127.0.0.1 and send same-origin requests
to the dev server (e.g. mint an admin key). Such requests carry ``Host: evil.example``;
answering only loopback Host names (``localhost``, ``127.0.0.1``/``127.x``, ``[::1]``, with any
port) closes that path.
"""

from __future__ import annotations

import ipaddress


def is_loopback_address(host: str) -> bool:
    """``localhost`` or a loopback IP literal (a bind address or a Host name, no port)."""
    name = host.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str | None:
    """The name part of a ``Host`` header value (``[::1]:8000`` -> ``::1``); None when the
    value is malformed (a bracket not closed, a non-numeric port)."""
    value = header.strip()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1:]
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        return name
    name, sep, port = value.rpartition(":")
    if not sep:
        return value
    if not port.isdigit() or ":" in name:  # an unbracketed IPv6 literal is not a Host
        return None
    return name


def is_loopback_host_header(header: str | None) -> bool:
    if not header:
        return False
    name = host_name(header)
    return name is not None and is_loopback_address(name)
