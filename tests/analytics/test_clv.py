"""CLV models against the published CDNOW results (Fader, Hardie & Lee; Fader & Hardie notes).

The data are the 2,357-customer CDNOW sample with a 39-week calibration period, as shipped
in the lifetimes 0.11.3 wheel (see tests/data/README.md).
"""

import numpy as np
import pytest

from guanxi.analytics import clv


@pytest.fixture(scope="module")
def bgnbd(cdnow_summary):
    return clv.BetaGeo().fit(cdnow_summary.x, cdnow_summary.t_x, cdnow_summary.T)


@pytest.fixture(scope="module")
def pareto(cdnow_summary):
    return clv.ParetoNBD().fit(cdnow_summary.x, cdnow_summary.t_x, cdnow_summary.T)


@pytest.fixture(scope="module")
def gamma_gamma(cdnow_spend):
    return clv.GammaGamma().fit(cdnow_spend.x, cdnow_spend.zbar)


# ---------------------------------------------------------------- BG/NBD


def test_bgnbd_reproduces_fader_hardie_lee_2005_estimates(bgnbd):
    """FHL (2005), Marketing Science 24(2), section 4: r = 0.243, α = 4.414, a = 0.793,
    b = 2.426, LL = −9582.4 (4-decimal values from Hardie's BG/NBD Excel note)."""
    assert bgnbd.converged_
    assert bgnbd.r_ == pytest.approx(0.2426, abs=5e-5)
    assert bgnbd.alpha_ == pytest.approx(4.4135, abs=5e-4)
    assert bgnbd.a_ == pytest.approx(0.7929, abs=5e-5)
    assert bgnbd.b_ == pytest.approx(2.4258, abs=5e-4)
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)


def test_bgnbd_conditional_expectation_matches_the_worked_example(bgnbd):
    """FHL (2005) / Hardie's spreadsheet: a customer with x = 2, t_x = 30.43, T = 38.86 is
    expected to make 1.226 purchases in the next 39 weeks."""
    expected = bgnbd.expected_purchases(39, 2, 30.43, 38.86)
    assert expected[0] == pytest.approx(1.226, abs=5e-4)


def test_bgnbd_population_expectation_matches_hardies_spreadsheet(bgnbd):
    """E[X(t)] from Hardie's BG/NBD Excel implementation (also used by lifetimes' tests)."""
    times = [0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00]
    published = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    np.testing.assert_allclose(bgnbd.expected_purchases_population(times), published, atol=6e-4)


def test_bgnbd_p_alive_is_one_without_repeat_purchases_and_falls_with_a_long_silence(bgnbd):
    alive = bgnbd.p_alive([0, 5, 5], [0, 38, 5], [38.86, 38.86, 38.86])
    assert alive[0] == 1.0
    assert alive[1] > 0.85 > 0.1 > alive[2]


def test_bgnbd_purchase_distribution_sums_to_one_and_to_the_expectation(bgnbd):
    n = np.arange(400)
    probabilities = bgnbd.probability_of_purchases(39, n)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    assert n @ probabilities == pytest.approx(bgnbd.expected_purchases_population(39), rel=1e-6)


def test_bgnbd_fit_is_fast(cdnow_summary):
    import time

    start = time.perf_counter()
    clv.BetaGeo().fit(cdnow_summary.x, cdnow_summary.t_x, cdnow_summary.T)
    assert time.perf_counter() - start < 0.5


# ---------------------------------------------------------------- Pareto/NBD


def test_pareto_nbd_reproduces_fader_hardie_estimates(pareto):
    """Fader & Hardie (2005), "A note on implementing the Pareto/NBD model in MATLAB":
    r = 0.5533, α = 10.5776, s = 0.6061, β = 11.6650, LL = −9594.98.

    The likelihood is nearly flat along a ridge in (s, β): BTYD reports β = 11.6562 and
    lifetimes 11.669 with the same LL to 1e-4, so s and β are compared more loosely.
    """
    assert pareto.converged_
    assert pareto.r_ == pytest.approx(0.5533, abs=5e-4)
    assert pareto.alpha_ == pytest.approx(10.5776, abs=5e-3)
    assert pareto.s_ == pytest.approx(0.6061, abs=1e-3)
    assert pareto.beta_ == pytest.approx(11.6650, abs=0.015)
    assert pareto.log_likelihood_ == pytest.approx(-9594.98, abs=0.01)


def test_pareto_nbd_distribution_is_consistent_with_its_mean(pareto):
    n = np.arange(300)
    probabilities = pareto.probability_of_purchases(39, n)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert n @ probabilities == pytest.approx(pareto.expected_purchases_population(39), rel=1e-4)


def test_pareto_nbd_p_alive_stays_a_probability_for_heavy_buyers(pareto):
    """lifetimes' overflow case: hundreds of purchases must not produce NaN or inf."""
    x = np.arange(0, 500, 25, dtype=float)
    t_x = np.minimum(x / 10, 38.0)
    alive = pareto.p_alive(x, t_x, np.full_like(x, 38.86))
    assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
    expected = pareto.expected_purchases(39, x, t_x, np.full_like(x, 38.86))
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)


def test_pareto_and_bgnbd_agree_on_the_worked_example(bgnbd, pareto):
    """Both models describe the same data; their 39-week forecasts for x=2 differ by < 20%."""
    assert pareto.expected_purchases(39, 2, 30.43, 38.86)[0] == pytest.approx(
        bgnbd.expected_purchases(39, 2, 30.43, 38.86)[0], rel=0.2
    )


# ---------------------------------------------------------------- Gamma-Gamma


def test_gamma_gamma_reproduces_fader_hardie_lee_2005_estimates(gamma_gamma):
    """FHL (2005), "RFM and CLV: using iso-value curves", JMR 42(4), and Fader & Hardie (2013),
    "The Gamma-Gamma model of monetary value": the 946 repeat buyers give p = 6.25,
    q = 3.74, γ = 15.44, LL = −4055.9."""
    assert gamma_gamma.converged_
    assert gamma_gamma.n_customers_ == 946
    assert gamma_gamma.p_ == pytest.approx(6.2488, abs=5e-4)
    assert gamma_gamma.q_ == pytest.approx(3.7446, abs=5e-4)
    assert gamma_gamma.gamma_ == pytest.approx(15.4477, abs=5e-3)
    assert gamma_gamma.log_likelihood_ == pytest.approx(-4055.9, abs=0.05)


def test_gamma_gamma_expected_spend_shrinks_towards_the_population_mean(gamma_gamma):
    population_mean = gamma_gamma.p_ * gamma_gamma.gamma_ / (gamma_gamma.q_ - 1)
    spend = gamma_gamma.conditional_expected_spend([0, 1, 1, 50], [0, 100.0, 10.0, 100.0])
    assert spend[0] == pytest.approx(population_mean)
    assert population_mean < spend[1] < 100 and 10 < spend[2] < population_mean
    assert spend[3] == pytest.approx(100, rel=0.02)  # many purchases: the customer's own mean


# ---------------------------------------------------------------- CLV


def test_customer_lifetime_value_discounts_each_period(bgnbd, gamma_gamma):
    x, t_x, T, m = [2, 0], [30.43, 0], [38.86, 38.86], [22.35, 0]
    per_period = clv.customer_lifetime_value(
        bgnbd, gamma_gamma, x, t_x, T, m, periods=3, discount_rate=0.1, period_length=4.35, per_period=True
    )
    spend = gamma_gamma.conditional_expected_spend(x, m)
    cumulative = [bgnbd.expected_purchases(4.35 * i, x, t_x, T) for i in (1, 2, 3)]
    expected_second = (cumulative[1] - cumulative[0]) * spend / 1.1**2
    np.testing.assert_allclose(per_period[:, 1], expected_second)
    total = clv.customer_lifetime_value(bgnbd, gamma_gamma, x, t_x, T, m, periods=3, discount_rate=0.1, period_length=4.35)
    np.testing.assert_allclose(total, per_period.sum(axis=1))
    undiscounted = clv.customer_lifetime_value(bgnbd, gamma_gamma, x, t_x, T, m, periods=3, discount_rate=0.0, period_length=4.35)
    np.testing.assert_allclose(undiscounted, cumulative[2] * spend)


# ---------------------------------------------------------------- summaries


def test_summary_from_transactions_reproduces_the_published_cdnow_summary(
    cdnow_transactions, cdnow_summary, cdnow_spend
):
    """CDNOW_sample.txt summarised to 1997-09-30 in weeks equals cdnow_customers_summary.csv
    (x, t_x, T to the published two decimals) and the zbar column of the spend file."""
    summary = clv.summary_from_transactions(
        cdnow_transactions.ids, cdnow_transactions.dates, cdnow_transactions.amounts, "1997-09-30", "W"
    )
    np.testing.assert_array_equal(summary.customer_ids, cdnow_summary.ids)
    np.testing.assert_array_equal(summary.frequency, cdnow_summary.x)
    np.testing.assert_allclose(summary.recency, cdnow_summary.t_x, atol=0.005)
    np.testing.assert_allclose(summary.T, cdnow_summary.T, atol=0.005)
    np.testing.assert_allclose(summary.monetary_value, cdnow_spend.zbar, atol=0.005 + 1e-9)


def test_summary_merges_same_day_purchases_and_ignores_later_ones():
    summary = clv.summary_from_transactions(
        ["a", "a", "a", "a", "b"],
        ["2024-01-01", "2024-01-08", "2024-01-08", "2024-03-01", "2024-01-05"],
        [10.0, 5.0, 7.0, 99.0, 3.0],
        "2024-01-15",
        "D",
    )
    assert list(summary.customer_ids) == ["a", "b"]
    np.testing.assert_array_equal(summary.frequency, [1, 0])
    np.testing.assert_array_equal(summary.recency, [7, 0])
    np.testing.assert_array_equal(summary.T, [14, 10])
    np.testing.assert_array_equal(summary.monetary_value, [12.0, 0.0])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([-1, 2], [0, 3], [5, 5], "frequency must be non-negative"),
        ([1, 2], [6, 3], [5, 5], "recency must not exceed T"),
        ([1, np.nan], [1, 3], [5, 5], "frequency contains 1 NaN"),
        ([], [], [], "frequency is empty"),
        ([1, 2], [1, 3], [5], "mismatched lengths"),
        ([1.5, 2], [1, 3], [5, 5], "whole numbers"),
        ([0, 2], [1, 3], [5, 5], "recency must be 0"),
        ([1, 2], [1, 3], [0, 5], "T (length of observation) must be positive"),
    ],
)
@pytest.mark.parametrize("model", [clv.BetaGeo, clv.ParetoNBD])
def test_transaction_models_reject_bad_input(model, x, t_x, T, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        model().fit(x, t_x, T)


def test_gamma_gamma_rejects_bad_input():
    with pytest.raises(ValueError, match="monetary_value must be positive"):
        clv.GammaGamma().fit([1, 2], [0.0, 5.0])
    with pytest.raises(ValueError, match="at least one customer with frequency > 0"):
        clv.GammaGamma().fit([0, 0], [0.0, 0.0])
    with pytest.raises(ValueError, match="monetary_value contains 1 NaN"):
        clv.GammaGamma().fit([1, 2], [np.nan, 5.0])


def test_predicting_before_fitting_says_so():
    with pytest.raises(ValueError, match="not fitted yet"):
        clv.BetaGeo().p_alive([1], [1], [2])


def test_summary_rejects_unknown_units_and_missing_dates():
    with pytest.raises(ValueError, match="freq must be"):
        clv.summary_from_transactions([1], ["2024-01-01"], [1.0], "2024-02-01", "fortnight")
    with pytest.raises(ValueError, match="dates contains missing dates"):
        clv.summary_from_transactions([1], ["NaT"], [1.0], "2024-02-01")


@pytest.mark.parametrize("fixture", ["bgnbd", "pareto"])
def test_expectations_shared_across_a_cohort_equal_the_per_customer_formula(fixture, request, cdnow_summary):
    """Scalar horizons reuse the hypergeometric term per distinct (x, T); per-customer
    horizons take the direct formula. Both must agree."""
    model = request.getfixturevalue(fixture)
    x, t_x, T = cdnow_summary.x, cdnow_summary.t_x, cdnow_summary.T
    np.testing.assert_allclose(
        model.expected_purchases(26.0, x, t_x, T), model.expected_purchases(np.full(len(x), 26.0), x, t_x, T)
    )
