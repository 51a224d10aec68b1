"""MinHash signatures of document text: the one near-duplicate detector, shared by ingest
(``duplicate_of`` marking, ``stores/postgres/duplicates.py``) and ``assess``
(``assess/dimensions/duplicates.py``).

Foundation layer: imports only the standard library, numpy and (lazily, on first use)
datasketch; nothing happens at import time.

* ``normalise``: Unicode NFKC, case-folded, whitespace runs collapsed, ends trimmed (titles
  are not part of a document's text for duplicate detection).
* ``signature(text)``: the MinHash (``num_perm`` permutations, seed 1) of the word
  3-shingles of the normalised text as ``uint32`` values, or None for a text of fewer than
  ``MIN_WORDS`` words (too small for shingle similarity: never a near-duplicate).
* ``similarity(a, b)``: the estimated Jaccard similarity, the share of equal values (0.0
  when the signatures have different lengths).
* ``band_keys(sig)``: LSH band keys (``BAND_ROWS`` values per band, one signed 64-bit key
  per band, the band's position included). Two signatures with estimated Jaccard ``s``
  share a key with probability ``1 - (1 - s**8)**(num_perm/8)``: 0.99+ at 0.9, 0.95 at 0.8,
  0.06 at 0.5 for 128 permutations. Keys do not depend on a threshold, so a stored key stays
  valid when the threshold changes; the threshold is applied to ``similarity``.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from groundwire.text import WHITESPACE_RUN, WORD

NUM_PERM = 128
SEED = 1
MIN_WORDS = 8  # shorter texts are too small for shingle similarity
BAND_ROWS = 8


def normalise(text: str) -> str:
    """The normal form used for duplicate detection: Unicode NFKC, case-folded, every run of
    whitespace collapsed to one space, ends trimmed."""
    return WHITESPACE_RUN.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def shingles(normalised: str, size: int = 3) -> set[bytes]:
    """Word ``size``-shingles of normalised text, UTF-8 encoded; a text shorter than ``size``
    words gives one shingle of all its words."""
    tokens = WORD.findall(normalised)
    if len(tokens) < size:
        return {" ".join(tokens).encode("utf-8")} if tokens else set()
    return {" ".join(tokens[i : i + size]).encode("utf-8") for i in range(len(tokens) - size + 1)}


@functools.cache
def _template(num_perm: int) -> Any:
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=SEED)


def minhash(normalised: str, num_perm: int = NUM_PERM) -> Any | None:
    """The datasketch ``MinHash`` of normalised text (None below ``MIN_WORDS`` words)."""
    grams = shingles(normalised)
    if len(normalised.split()) < MIN_WORDS or not grams:
        return None
    from datasketch import MinHash

    template = _template(num_perm)
    mh = MinHash(num_perm=num_perm, seed=SEED, permutations=template.permutations,
                 scheme=template.scheme)
    mh.update_batch(list(grams))
    return mh


def signature(text: str, num_perm: int = NUM_PERM) -> np.ndarray | None:
    """The ``uint32`` MinHash signature of ``text`` (normalised here), or None when the
    text is too short to compare."""
    mh = minhash(normalise(text), num_perm)
    return None if mh is None else np.asarray(mh.hashvalues, dtype=np.uint64).astype(np.uint32)


def document_signature(title: str, texts: Sequence[str], num_perm: int = NUM_PERM) -> bytes | None:
    """The stored signature of a document (``to_bytes``): its title and text blocks, as
    ingest marks near-duplicates (a changed title makes another document)."""
    sig = signature(f"{title}\n" + "\n\n".join(texts), num_perm)
    return None if sig is None else to_bytes(sig)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures (0.0 when their lengths differ)."""
    if a.shape != b.shape or not len(a):
        return 0.0
    return float(np.mean(a == b))


def to_bytes(sig: np.ndarray) -> bytes:
    """Compact storage form: the values as little-endian uint32 (512 bytes for 128)."""
    return sig.astype("<u4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


def band_keys(sig: np.ndarray, salt: bytes = b"") -> list[int]:
    """One signed 64-bit LSH key per band of ``BAND_ROWS`` values (see the module doc).
    ``salt`` scopes the keys (the store salts them with the index and tenant, so a lookup
    meets only documents that may be compared at all)."""
    keys = []
    values = sig.astype("<u4")
    for band in range(len(values) // BAND_ROWS):
        chunk = values[band * BAND_ROWS : (band + 1) * BAND_ROWS].tobytes()
        digest = hashlib.blake2b(salt + band.to_bytes(2, "little") + chunk,
                                 digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


@dataclass(frozen=True, slots=True)
class Member:
    """A document taking part in near-duplicate marking. ``newness``: larger is newer (e.g.
    the modified time); None when unknown: such a member is never marked and never the
    reason another is marked. ``group``: only members of equal groups are compared (same
    index, tenant and reader set)."""

    id: int
    newness: tuple[Any, ...] | None
    group: Hashable
    signature: np.ndarray
    bands: Sequence[int] = ()  # its band keys when already known (else computed)

    def keys(self) -> Sequence[int]:
        return self.bands or band_keys(self.signature)


def plan_marks(new: Sequence[Member], kept: Sequence[Member], threshold: float) -> dict[int, int]:
    """Which documents become near-duplicates of which: ``{id: id of the kept document}``.

    ``new`` are documents just written; ``kept`` are stored documents not marked (they were
    not duplicates of each other when last compared). Candidates share an LSH band key and a
    group; a pair counts when ``similarity >= threshold``. Per connected cluster, members are
    visited newest first: one that is similar to an already kept, *strictly* newer member is
    marked as a duplicate of the newest such member, any other is kept. So the newest of a
    cluster is always kept, a document is only ever marked for one it is directly similar to
    and strictly older than (equal or unknown newness: both kept), and a document similar to
    nothing is never marked."""
    members = {m.id: m for m in (*kept, *new) if m.newness is not None}
    new = [m for m in new if m.newness is not None]
    buckets: dict[tuple[Hashable, int], list[int]] = {}
    keys = {m.id: m.keys() for m in members.values()}  # all computed alike (same salt)
    for m in members.values():
        for key in keys[m.id]:
            buckets.setdefault((m.group, key), []).append(m.id)
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    touched: set[int] = set()
    for m in new:
        for key in keys[m.id]:
            for other in buckets[(m.group, key)]:
                if other != m.id and find(other) != find(m.id) and similarity(
                        m.signature, members[other].signature) >= threshold:
                    parent[find(other)] = find(m.id)
                    touched.update((other, m.id))
    clusters: dict[int, list[Member]] = {}
    for x in touched:
        clusters.setdefault(find(x), []).append(members[x])
    marks: dict[int, int] = {}
    for cluster in clusters.values():
        keepers: list[Member] = []
        for m in sorted(cluster, key=lambda m: (m.newness, m.id), reverse=True):
            target = next((k for k in keepers if k.group == m.group and _newer(k, m)
                           and similarity(k.signature, m.signature) >= threshold), None)
            if target is None:
                keepers.append(m)
            else:
                marks[m.id] = target.id
    return marks


def _newer(a: Member, b: Member) -> bool:
    return a.newness is not None and b.newness is not None and a.newness > b.newness
