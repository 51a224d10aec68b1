"""``release_freed_memory()``: hand the heap that start-up freed back to the operating system.

Warming a serving process (the ONNX model parsed and its weights copied, the keyword indexes
read from PostgreSQL or their snapshots, Presidio's recognizers compiled) frees far more than
it keeps, and glibc's allocator keeps freed pages of its main heap mapped: they count in the
process's RSS until ``malloc_trim`` returns them (issue 23: tens of MB of a 14k-chunk
server). Called once, at the end of ``Groundwire.warm``; a no-op where the C library has no
``malloc_trim`` (musl, macOS, Windows). Returns the bytes released as the RSS drop, or None.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def release_freed_memory() -> int | None:
    """Collect garbage, then ``malloc_trim(0)`` (glibc Linux only). Blocking, a few ms."""
    gc.collect()
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    before = _rss_bytes()
    trim(0)
    after = _rss_bytes()
    return None if before is None or after is None else max(0, before - after)
