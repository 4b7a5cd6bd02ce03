"""Pareto grading, the customer pyramid and relationship stages."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from guanxi.analytics import grading

profits = hnp.arrays(
    np.float64,
    st.integers(1, 200),
    elements=st.floats(-1e4, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False),  # money, not 5e-324
)


@settings(max_examples=300, deadline=None)
@given(profit=profits, key_share=st.floats(0.05, 1.0), extra=st.floats(0.0, 1.0))
def test_every_customer_gets_one_grade_and_key_customers_are_the_smallest_set_reaching_the_share(
    profit, key_share, extra
):
    normal_share = key_share + (1 - key_share) * extra
    grades = grading.pareto_grades(profit, key_share=key_share, normal_share=normal_share)
    assert grades.shape == profit.shape
    assert set(np.unique(grades)) <= set(grading.GRADES)
    np.testing.assert_array_equal(grades == "bad", profit < 0)
    total = profit[profit >= 0].sum()
    key = profit[grades == "key"]
    if total <= 0:
        assert len(key) == 0
        return
    assert key.sum() >= key_share * total * (1 - 1e-9)  # reaches the share
    assert key.sum() - key.min() < key_share * total * (1 + 1e-9)  # and no customer could be spared
    others = profit[(grades == "normal") | (grades == "small")]
    if len(others):
        assert key.min() >= others.max()  # the key set is the top of the ranking
        normal = profit[grades == "normal"]
        small = profit[grades == "small"]
        if len(normal) and len(small):
            assert normal.min() >= small.max()


def test_eighty_twenty_example():
    """Ten customers, two of whom bring 80 % of the profit (the seed's 80/20 rule)."""
    profit = [500, 300, 60, 40, 30, 25, 20, 15, 10, -50]
    grades = grading.pareto_grades(profit, bad_debt=[0, 0, 0, 0, 0, 0, 0, 0, 1, 0])
    # Total of non-bad = 990: 500+300 = 800 ≥ 792; 800+60+40 = 900 < 940.5 ≤ 900+30+25 = 955.
    assert list(grades) == ["key", "key", "normal", "normal", "normal", "normal", "small", "small", "bad", "bad"]
    pyramid = grading.customer_pyramid(grades, profit)
    assert pyramid.grades == ("key", "normal", "small", "bad")
    np.testing.assert_array_equal(pyramid.counts, [2, 4, 2, 2])
    np.testing.assert_allclose(pyramid.profit, [800, 155, 35, -40])
    assert pyramid.profit_share.sum() == pytest.approx(1.0)


def test_relationship_stages_follow_the_documented_rule():
    history = np.array(
        [
            [0, 0, 0, 0, 0, 0],  # never bought
            [0, 0, 0, 0, 5, 5],  # first purchase within the last window
            [5, 5, 5, 9, 9, 9],  # growing
            [5, 5, 5, 5, 5, 6],  # steady
            [9, 9, 9, 2, 0, 0],  # falling
            [5, 5, 5, 0, 0, 0],  # silent
        ],
        dtype=float,
    )
    assert list(grading.relationship_stage(history)) == [
        "exploration",
        "exploration",
        "formation",
        "stability",
        "decline",
        "decline",
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: grading.pareto_grades([1.0, np.nan]), "profit contains 1 NaN"),
        (lambda: grading.pareto_grades([]), "profit is empty"),
        (lambda: grading.pareto_grades([1.0], key_share=0.9, normal_share=0.8), "shares must satisfy"),
        (lambda: grading.pareto_grades([1.0, 2.0], bad_debt=[True]), "one flag per customer"),
        (lambda: grading.customer_pyramid(["vip"], [1.0]), "unknown grade"),
        (lambda: grading.relationship_stage([[1, 2, 3]]), "at least 2 × window"),
        (lambda: grading.relationship_stage([[1, -2, 3, 1, 1, 1]]), "non-negative"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
