"""PLS path modelling against seminr's published estimates of the ECSI model on mobi.

Reference: seminr (R, Ray, Danks & Calero Valdez), demo ``seminr-pls-ecsi.R`` — all seven
constructs ``composite()`` (Mode A), ``estimate_pls`` defaults (path weighting, stop
criterion 1e-7, max 300 iterations). The figures are seminr 2.5.0.9000's output for that
demo, recorded to 15 digits in the seminr-ts port's golden fixture
``tests/fixtures/expected/M2_full_ecsi.json``; seminr's documentation quotes the same
paths to three decimals (Image→Expectation 0.505, Quality→Satisfaction 0.512,
Satisfaction→Loyalty 0.485).
"""

import numpy as np
import pytest

from guanxi.analytics.pls import PLSPathModel, satisfaction_index

ECSI_MEASUREMENT = {
    "Image": [f"IMAG{i}" for i in range(1, 6)],
    "Expectation": [f"CUEX{i}" for i in range(1, 4)],
    "Quality": [f"PERQ{i}" for i in range(1, 8)],
    "Value": ["PERV1", "PERV2"],
    "Satisfaction": [f"CUSA{i}" for i in range(1, 4)],
    "Complaints": ["CUSCO"],
    "Loyalty": [f"CUSL{i}" for i in range(1, 4)],
}

# seminr's path coefficients, (source, target) → value.
SEMINR_PATHS = {
    ("Image", "Expectation"): 0.50491393362921,
    ("Image", "Satisfaction"): 0.178739500119218,
    ("Image", "Loyalty"): 0.195755333112827,
    ("Expectation", "Quality"): 0.556748962354268,
    ("Expectation", "Value"): 0.0499883925356608,
    ("Expectation", "Satisfaction"): 0.0625228695392276,
    ("Quality", "Value"): 0.558304379470818,
    ("Quality", "Satisfaction"): 0.512023940041866,
    ("Value", "Satisfaction"): 0.194765104190193,
    ("Satisfaction", "Complaints"): 0.528066246257102,
    ("Satisfaction", "Loyalty"): 0.485477623599999,
    ("Complaints", "Loyalty"): 0.0669260690288726,
}

SEMINR_R_SQUARED = {
    "Expectation": 0.254938080372923,
    "Quality": 0.309969407082555,
    "Value": 0.345278941898147,
    "Satisfaction": 0.681078291389478,
    "Complaints": 0.278853960436066,
    "Loyalty": 0.456944454679426,
}

SEMINR_WEIGHTS = {
    "Image": [0.301312155028411, 0.259691153052593, 0.217923053132011, 0.328503566516196, 0.324681406422246],
    "Value": [0.479282452283568, 0.604056019821715],
    "Loyalty": [0.460664728419479, 0.114269525625845, 0.654310585650237],
}

SEMINR_LOADINGS = {
    "Quality": [0.803178125267657, 0.638146439777288, 0.783746918348657, 0.769479738789211,
                0.754721358853526, 0.774643309682286, 0.779864828705122],
    "Satisfaction": [0.792412434110373, 0.847021459835081, 0.856692681286538],
    "Loyalty": [0.820413196007856, 0.202021709399004, 0.915436286843637],
}

# First respondent's construct scores.
SEMINR_FIRST_SCORES = [-2.0010060438365, -0.628735165229914, -1.5765925042517, -2.19623824037982,
                       -1.34847822376719, -0.0299003971450091, -0.743076887095955]


@pytest.fixture(scope="module")
def ecsi(mobi):
    return PLSPathModel(ECSI_MEASUREMENT, SEMINR_PATHS).fit(mobi)


def test_ecsi_path_coefficients_match_seminr(ecsi):
    assert ecsi.converged_
    for (source, target), published in SEMINR_PATHS.items():
        assert ecsi.path_coefficient(source, target) == pytest.approx(published, abs=1e-4), (source, target)
    assert ecsi.path_coefficient("Image", "Quality") == 0.0  # no such path


def test_ecsi_r_squared_matches_seminr(ecsi):
    for construct, published in SEMINR_R_SQUARED.items():
        assert ecsi.r_squared(construct) == pytest.approx(published, abs=1e-4), construct
    assert np.isnan(ecsi.r_squared("Image"))


def test_ecsi_outer_weights_loadings_and_scores_match_seminr(ecsi):
    for construct, published in SEMINR_WEIGHTS.items():
        np.testing.assert_allclose(ecsi.weights(construct), published, atol=1e-4)
    for construct, published in SEMINR_LOADINGS.items():
        np.testing.assert_allclose(ecsi.loadings(construct), published, atol=1e-4)
    np.testing.assert_allclose(ecsi.weights("Complaints"), [1.0])
    np.testing.assert_allclose(ecsi.scores_[0], SEMINR_FIRST_SCORES, atol=1e-3)


def test_a_2d_array_with_column_names_gives_the_same_model(mobi, ecsi):
    columns = list(mobi)
    array = np.column_stack([mobi[c] for c in columns])
    model = PLSPathModel(ECSI_MEASUREMENT, SEMINR_PATHS).fit(array, columns=columns)
    np.testing.assert_allclose(model.path_coefficients_, ecsi.path_coefficients_, atol=1e-12)


def test_index_uses_unstandardised_weights_on_the_original_scale(ecsi, mobi):
    """ACSI (Fornell et al. 1996): index = (Σ w̃ᵢ·meanᵢ − 1) / 9 × 100 on 1–10 scales,
    w̃ the weights divided by the item standard deviation and rescaled to sum to one."""
    items = ECSI_MEASUREMENT["Satisfaction"]
    raw = ecsi.weights("Satisfaction") / np.array([np.std(mobi[i], ddof=1) for i in items])
    expected = (raw / raw.sum() @ np.array([np.mean(mobi[i]) for i in items]) - 1) / 9 * 100
    assert ecsi.index("Satisfaction") == pytest.approx(expected)
    assert 0 < ecsi.index("Satisfaction") < 100


def test_satisfaction_index_worked_example():
    """Two items on a 1–10 scale with weights 1 and 3 and means 7 and 9: Σ w̃·mean = 8.5,
    index = (8.5 − 1) / 9 × 100 = 83.33."""
    assert satisfaction_index([1, 3], [7, 9]) == pytest.approx(83.3333, abs=1e-4)
    assert satisfaction_index([0.2, 0.2], [1, 1]) == 0.0
    assert satisfaction_index([0.2, 0.2], [10, 10]) == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("measurement", "paths", "message"),
    [
        ({"A": ["x1"], "B": []}, [("A", "B")], "construct 'B' has no items"),
        ({"A": ["x1"], "B": ["x1"]}, [("A", "B")], "item 'x1' is used by both"),
        ({"A": ["x1"], "B": ["x2"]}, [("A", "C")], "unknown construct 'C'"),
        ({"A": ["x1"], "B": ["x2"]}, [("A", "B"), ("B", "A")], "cycle"),
        ({"A": ["x1"], "B": ["x2"], "C": ["x3"]}, [("A", "B")], "take part in no structural path"),
        ({"A": ["x1"], "B": ["x2"]}, [], "structural model is empty"),
    ],
)
def test_bad_models_are_refused(measurement, paths, message):
    with pytest.raises(ValueError, match=message):
        PLSPathModel(measurement, paths)


def test_bad_data_is_refused(mobi):
    model = PLSPathModel(ECSI_MEASUREMENT, SEMINR_PATHS)
    with pytest.raises(ValueError, match="'CUSL3' not found"):
        model.fit({k: v for k, v in mobi.items() if k != "CUSL3"})
    holes = dict(mobi, IMAG1=np.where(np.arange(250) == 3, np.nan, mobi["IMAG1"]))
    with pytest.raises(ValueError, match=r"\['IMAG1'\] contain NaN"):
        model.fit(holes)
    with pytest.raises(ValueError, match="needs columns"):
        model.fit(np.ones((10, 24)))
    with pytest.raises(ValueError, match="not fitted yet"):
        model.index("Satisfaction")
