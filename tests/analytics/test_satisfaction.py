"""Importance–performance zones, SERVQUAL gaps, NPS and the ratio C = b/a."""

import numpy as np
import pytest

from guanxi.analytics import satisfaction


def test_importance_performance_zones_at_the_means():
    """Worked example in the manner of Martilla & James (1977): four attributes rated for
    importance and performance on 1–5; means 3.5 and 3.5 split the grid. Quadrant names
    follow the seed (急需改进 / 竞争优势 / 竞争机会 / 维持现状)."""
    importance = [4.8, 4.6, 2.1, 2.5]
    performance = [2.2, 4.5, 2.9, 4.4]
    result = satisfaction.importance_performance(importance, performance)
    assert (result.importance_threshold, result.performance_threshold) == pytest.approx((3.5, 3.5))
    assert list(result.zone) == ["urgent_improvement", "competitive_advantage", "opportunity", "maintain"]


def test_importance_performance_with_given_thresholds():
    result = satisfaction.importance_performance([4, 4], [3, 5], importance_threshold=3, performance_threshold=4)
    assert list(result.zone) == ["urgent_improvement", "competitive_advantage"]


def test_servqual_gaps_per_rater_dimension():
    """Parasuraman et al. (1988): gap = perception − expectation, averaged per dimension."""
    perception = np.array([[5, 6, 4, 7], [6, 6, 5, 7]])
    expectation = np.array([[7, 7, 4, 6], [7, 6, 4, 6]])
    gaps = satisfaction.servqual_gaps(perception, expectation, {"reliability": [0, 1], "tangibles": [2, 3]})
    # Item gaps: (−2 −1)/2 = −1.5, (−1 + 0)/2 = −0.5, (0 + 1)/2 = 0.5, 1 → dimensions −1.0 and 0.75.
    assert gaps == {"reliability": pytest.approx(-1.0), "tangibles": pytest.approx(0.75)}
    np.testing.assert_allclose(satisfaction.servqual_gaps(perception, expectation), [-1.5, -0.5, 0.5, 1.0])


def test_net_promoter_score():
    """Reichheld (2003): 10 answers, 5 promoters (9–10), 2 detractors (0–6) → 50 − 20 = 30."""
    assert satisfaction.net_promoter_score([10, 9, 9, 10, 9, 8, 7, 7, 6, 0]) == pytest.approx(30.0)


def test_satisfaction_ratio_and_state():
    ratio = satisfaction.satisfaction_ratio([3, 5, 7], [5, 5, 5])
    np.testing.assert_allclose(ratio, [0.6, 1.0, 1.4])
    assert list(satisfaction.satisfaction_state(ratio)) == ["dissatisfied", "neutral", "satisfied"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: satisfaction.importance_performance([1, 2], [1]), "mismatched lengths"),
        (lambda: satisfaction.importance_performance([np.nan], [1]), "importance contains 1 NaN"),
        (lambda: satisfaction.net_promoter_score([11]), "0 to 10"),
        (lambda: satisfaction.net_promoter_score([]), "scores is empty"),
        (lambda: satisfaction.satisfaction_ratio([1], [0]), "must be positive"),
        (lambda: satisfaction.servqual_gaps([[1, 2]], [[1]]), "shapes differ"),
        (lambda: satisfaction.servqual_gaps([[1, 2]], [[1, 2]], {"empathy": [5]}), "outside"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
