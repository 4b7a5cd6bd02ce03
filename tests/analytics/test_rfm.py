"""RFM scores and the behaviour/value matrices: properties that must hold for any customer base."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from guanxi.analytics import rfm

amounts = hnp.arrays(
    np.float64,
    st.integers(1, 300),
    elements=st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=200, deadline=None)
@given(values=amounts, bins=st.integers(2, 9))
def test_scores_are_in_range_and_follow_the_order_of_the_values(values, bins):
    scores = rfm.quantile_scores(values, bins)
    assert scores.min() >= 1 and scores.max() <= bins
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(scores[order]) >= 0)  # more is never scored lower
    for v in np.unique(values):  # equal values share a score
        assert len(np.unique(scores[values == v])) == 1


@settings(max_examples=100, deadline=None)
@given(values=amounts, seed=st.integers(0, 2**32 - 1))
def test_scores_do_not_depend_on_the_order_of_customers(values, seed):
    permutation = np.random.default_rng(seed).permutation(len(values))
    np.testing.assert_array_equal(rfm.quantile_scores(values)[permutation], rfm.quantile_scores(values[permutation]))


def test_distinct_values_fill_equal_quintiles():
    scores = rfm.quantile_scores(np.arange(100.0))
    np.testing.assert_array_equal(np.bincount(scores)[1:], [20, 20, 20, 20, 20])


def test_recent_customers_get_high_r_and_the_cell_reads_rfm():
    # Days since last purchase, purchase count, money.
    scores = rfm.rfm_scores([1, 400, 30], [12, 1, 5], [900.0, 20.0, 300.0], bins=3)
    np.testing.assert_array_equal(scores.recency, [3, 1, 2])
    np.testing.assert_array_equal(scores.frequency, [3, 1, 2])
    np.testing.assert_array_equal(scores.cell, [333, 111, 222])


def test_behaviour_matrix_quadrants():
    result = rfm.behaviour_matrix([5, 5, 200, 200], [10, 1, 10, 1], recency_threshold=30, frequency_threshold=5)
    assert list(result.segment) == ["loyal", "new", "at_risk", "lapsed"]


def test_value_matrix_splits_at_the_means_as_marcus_does():
    """Marcus (1998): frequency × average purchase; means here are 5.5 and 55."""
    result = rfm.value_matrix([10, 10, 1, 1], [100, 10, 100, 10])
    assert list(result.segment) == ["best", "frequent", "spender", "uncertain"]
    assert (result.x_threshold, result.y_threshold) == (5.5, 55.0)
    assert result.counts() == {"best": 1, "frequent": 1, "spender": 1, "uncertain": 1}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rfm.rfm_scores([1, 2], [1, 2], [1.0]), "mismatched lengths"),
        (lambda: rfm.rfm_scores([1, np.nan], [1, 2], [1.0, 2.0]), "recency contains 1 NaN"),
        (lambda: rfm.rfm_scores([], [], []), "recency is empty"),
        (lambda: rfm.rfm_scores([1, 2], [-1, 2], [1.0, 2.0]), "frequency must be non-negative"),
        (lambda: rfm.rfm_scores([1, 2], [1, 2], [1.0, 2.0], bins=10), "bins must be"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
