"""Kano evaluation against the published evaluation table, and Berger's coefficients."""

import numpy as np
import pytest

from guanxi.analytics import kano

# The Kano evaluation table as printed in Berger et al. (1993), "Kano's methods for
# understanding customer-defined quality", Center for Quality of Management Journal 2(4),
# Table 1, and Matzler & Hinterhuber (1998), Technovation 18(1), Fig. 3. Rows: functional
# answer like / must-be / neutral / live-with / dislike; columns: the dysfunctional answer.
PUBLISHED_TABLE = """
Q A A A O
R I I I M
R I I I M
R I I I M
R R R R Q
"""


def test_every_cell_of_the_published_evaluation_table():
    published = [row.split() for row in PUBLISHED_TABLE.strip().splitlines()]
    for functional in range(1, 6):
        for dysfunctional in range(1, 6):
            assert kano.evaluate(functional, dysfunctional) == published[functional - 1][dysfunctional - 1]


def test_classify_counts_answers_and_takes_the_mode():
    """Worked example (Berger et al.'s formulas, arithmetic by hand). 10 respondents, two
    attributes. Attribute 0: 4 × (like, dislike) = O, 3 × (neutral, dislike) = M,
    2 × (like, neutral) = A, 1 × (neutral, neutral) = I → mode O;
    Better = (2 + 4) / 10 = 0.6, Worse = −(4 + 3) / 10 = −0.7.
    Attribute 1: 5 × (like, neutral) = A, 3 × (neutral, neutral) = I,
    1 × (dislike, like) = R, 1 × (like, like) = Q → mode A;
    Better = 5 / 8 = 0.625, Worse = 0 / 8 = 0."""
    functional = np.array([[1, 1], [1, 1], [1, 1], [1, 1], [3, 1], [3, 3], [3, 3], [1, 3], [1, 5], [3, 1]])
    dysfunctional = np.array([[5, 3], [5, 3], [5, 3], [5, 3], [5, 3], [5, 3], [5, 3], [3, 3], [3, 1], [3, 1]])
    result = kano.classify(functional, dysfunctional)
    np.testing.assert_array_equal(result.counts, [[2, 4, 3, 1, 0, 0], [5, 0, 0, 3, 1, 1]])
    assert list(result.category) == ["O", "A"]
    np.testing.assert_allclose(result.better, [0.6, 0.625])
    np.testing.assert_allclose(result.worse, [-0.7, 0.0])


def test_ties_follow_bergers_rule_must_be_before_one_dimensional_before_attractive_before_indifferent():
    functional = np.array([1, 3, 1, 3])  # A, M, O, I — one of each
    dysfunctional = np.array([3, 5, 5, 3])
    assert kano.classify(functional, dysfunctional).category[0] == "M"
    assert kano.classify(functional[[0, 2]], dysfunctional[[0, 2]]).category[0] == "O"
    assert kano.classify(functional[[0, 3]], dysfunctional[[0, 3]]).category[0] == "A"


def test_coefficients_ignore_reverse_and_questionable_answers():
    better, worse = kano.coefficients([[1, 1, 1, 1, 50, 50]])
    assert better[0] == 0.5 and worse[0] == -0.5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: kano.evaluate(0, 1), "answer codes 1–5"),
        (lambda: kano.evaluate([1, 2], [1, 2, 3]), "shapes differ"),
        (lambda: kano.classify([], []), "functional is empty"),
        (lambda: kano.coefficients([1, 2, 3]), "6 columns"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
