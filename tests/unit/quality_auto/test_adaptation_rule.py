"""The promotion rule of domain adaptation: an adapted model is kept only for a fused held-out
gain above two paired standard errors, and never without training or without a gain."""

from __future__ import annotations

from groundwire.quality.adaptation import PROMOTION_SE, should_keep


def test_a_gain_inside_two_standard_errors_is_not_kept() -> None:
    assert PROMOTION_SE == 2.0
    # SQuAD, one epoch: +0.0088 on pseudo-questions with SE 0.0045 was -0.005 on labels.
    assert not should_keep(76, 0.0088, 0.0045)
    assert not should_keep(75, 0.015, 0.01)  # 1.5 SE: a one-SE rule would keep it
    assert should_keep(75, 0.021, 0.01)


def test_no_training_or_no_gain_is_never_kept() -> None:
    assert not should_keep(0, 0.05, 0.001)
    assert not should_keep(10, 0.0, 0.0)
    assert not should_keep(10, -0.01, 0.0)
    assert should_keep(10, 0.01, 0.0)  # every question gained the same: no noise at all

