"""A disk-backed append-only store of texts, so a pass can look texts up again later without
holding them in memory (a temporary file, created on the first append and deleted on
``close``)."""

from __future__ import annotations

import tempfile
from array import array
from typing import IO


class TextSpool:
    """``append(text) -> handle``; ``get(handle) -> text``. Memory: 12 bytes per text."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None  # created on the first append
        self._offsets = array("q")
        self._lengths = array("i")
        self._end = 0

    def __len__(self) -> int:
        return len(self._offsets)

    def append(self, text: str) -> int:
        data = text.encode("utf-8")
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="groundwire-assess-")  # noqa: SIM115
        self._file.seek(self._end)
        self._file.write(data)
        self._offsets.append(self._end)
        self._lengths.append(len(data))
        self._end += len(data)
        return len(self._offsets) - 1

    def get(self, handle: int) -> str:
        if self._file is None:
            raise IndexError(handle)
        self._file.seek(self._offsets[handle])
        return self._file.read(self._lengths[handle]).decode("utf-8")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
