"""Look-alike customers ranked by cosine similarity to a product's buyers."""

import time

import numpy as np
import pytest
from scipy import sparse

from guanxi.analytics.similarity import LookAlikes, rank_look_alikes


def test_worked_example_by_hand():
    """Buyers of product 2 are customers 1, 2, 3. Without column 2 their unit vectors are
    (1,1,0,0)/√2, (0,1,0,0), (0,0,0,1); the centroid direction is (0.707, 1.707, 0, 1),
    length √4.414 = 2.101. Non-buyer 0 = (1,1,0,0)/√2 scores 1.707/2.101 = 0.8125;
    non-buyer 4 = (0,0,0,1) scores 1/2.101 = 0.4760."""
    purchases = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 1]])
    ranking = rank_look_alikes(purchases, 2)
    np.testing.assert_array_equal(ranking.customers, [0, 4])
    np.testing.assert_allclose(ranking.scores, [0.8125, 0.4760], atol=1e-4)


def test_buyers_are_never_suggested_and_quantities_are_ignored_by_default():
    purchases = sparse.csr_array(np.array([[3, 0, 1], [1, 1, 0], [0, 5, 0], [0, 0, 0]]))
    ranking = LookAlikes(purchases).rank(0)
    assert set(ranking.customers) == {2, 3}
    assert ranking.scores[list(ranking.customers).index(3)] == 0.0  # nothing bought: no evidence


def test_top_k_equals_the_head_of_the_full_ranking():
    rng = np.random.default_rng(7)
    purchases = sparse.random_array((2000, 50), density=0.1, format="csr", rng=rng)
    index = LookAlikes(purchases)
    full = index.rank(3)
    top = index.rank(3, top=25)
    np.testing.assert_array_equal(top.customers, full.customers[:25])
    assert np.all(np.diff(full.scores) <= 0)


def test_ranks_100000_customers_by_1000_products_quickly():
    rng = np.random.default_rng(1)
    purchases = sparse.random_array((100_000, 1000), density=0.01, format="csr", rng=rng)
    index = LookAlikes(purchases)
    start = time.perf_counter()
    ranking = index.rank(10, top=500)
    assert time.perf_counter() - start < 1.0
    assert len(ranking.customers) == 500


@pytest.mark.parametrize(
    ("purchases", "product", "message"),
    [
        (np.array([[1, 0]]), 2, "column index"),
        (np.array([[1, -1]]), 0, "non-negative"),
        (np.array([[1, np.nan]]), 0, "NaN"),
    ],
)
def test_bad_input_is_refused(purchases, product, message):
    with pytest.raises(ValueError, match=message):
        rank_look_alikes(purchases, product)
