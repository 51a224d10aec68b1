"""Near-duplicate signatures and the marking rules (``groundwire.minhash``): the newer of a
near-identical pair is kept, the older marked; equal or unknown newness, other groups
(tenant/readers) and distinct texts are never marked."""

from __future__ import annotations

import numpy as np

from groundwire.minhash import (
    Member,
    band_keys,
    document_signature,
    from_bytes,
    plan_marks,
    signature,
    similarity,
    to_bytes,
)

BASE = (
    "The quarterly report lists revenue by region, the costs of the new warehouse in the "
    "north, hiring plans for the support team and the risks the board asked about in March, "
    "including currency exposure and the delayed supplier contract for packaging material."
)
EDITED = BASE.replace("material.", "materials.")
OTHER = (
    "Bake the loaf in a preheated cast iron pot with the lid on for twenty minutes, then "
    "remove the lid so the crust can darken and crackle for another twenty-five minutes."
)


def member(i: int, text: str, newness: int | None, group: str = "g") -> Member:
    sig = signature(text)
    assert sig is not None
    return Member(i, None if newness is None else (newness,), group, sig)


def test_signature_shape_roundtrip_and_similarity() -> None:
    a, b, c = signature(BASE), signature(EDITED), signature(OTHER)
    assert a is not None and b is not None and c is not None
    assert a.dtype == np.uint32 and a.shape == (128,)
    assert np.array_equal(from_bytes(to_bytes(a)), a) and len(to_bytes(a)) == 512
    assert similarity(a, signature(BASE.upper().replace(" ", "  "))) == 1.0  # normalised
    assert similarity(a, b) >= 0.9 > similarity(a, c)
    assert len(band_keys(a)) == 16 and band_keys(a) == band_keys(signature(BASE))
    assert signature("too short to compare") is None
    # the title is part of a document's signature
    assert from_bytes(document_signature("A", [BASE]) or b"").tolist() != from_bytes(
        document_signature("Another title entirely", [BASE]) or b"").tolist()


def test_older_is_marked_for_the_newer_one_whichever_arrives_first() -> None:
    assert plan_marks([member(2, EDITED, 2)], [member(1, BASE, 1)], 0.9) == {1: 2}
    assert plan_marks([member(1, BASE, 1)], [member(2, EDITED, 2)], 0.9) == {1: 2}
    # three versions in one batch: both older ones point at the newest
    three = [member(1, BASE, 1), member(2, EDITED, 3), member(3, BASE + " Draft", 2)]
    assert plan_marks(three, [], 0.9) == {1: 2, 3: 2}


def test_equal_or_unknown_newness_other_groups_and_distinct_texts_are_not_marked() -> None:
    assert plan_marks([member(1, BASE, 5), member(2, EDITED, 5)], [], 0.9) == {}
    assert plan_marks([member(1, BASE, None), member(2, EDITED, 2)], [], 0.9) == {}
    assert plan_marks([member(1, BASE, 1, "readers-a"), member(2, EDITED, 2, "readers-b")],
                      [], 0.9) == {}
    assert plan_marks([member(1, BASE, 1), member(2, OTHER, 2)], [], 0.9) == {}
    # below the threshold: a similar but not similar enough pair stays
    sim = similarity(member(1, BASE, 1).signature, member(2, EDITED, 2).signature)
    assert plan_marks([member(1, BASE, 1), member(2, EDITED, 2)], [], min(1.0, sim + 0.01)) == {}
