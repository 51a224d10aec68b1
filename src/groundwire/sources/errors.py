"""Errors of named sources (codes are stable; the edges map them)."""

from __future__ import annotations

from groundwire.errors import GroundwireError


class SourceUnreachable(GroundwireError):
    """The connector could not list its source (network down, repository gone, database
    refused): an outage, never a deletion. Recorded on the source; nothing was deleted."""

    code = "source.unreachable"
