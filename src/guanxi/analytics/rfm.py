"""RFM scores and the two-by-two customer matrices used for behavioural and value segmentation.

**RFM scores** (Hughes 1994, *Strategic Database Marketing*): each customer gets a
recency, a frequency and a monetary score from 1 to ``bins`` by quantile, so a score
means "which fifth of the customer base" rather than an absolute amount. ``recency`` here
is the *time since the last purchase*: the most recent customers score highest. The RFM
cell is the three scores read as one number (R·100 + F·10 + M, e.g. 545), as in Hughes.

Ties are deterministic and order-free: a customer's score is
``1 + floor(bins · (rank − 1) / n)`` where ``rank`` is the lowest 1-based rank among equal
values, so equal values always share a score (a large tie falls into the bin of its first
member) and without ties every bin holds n/bins customers.

The seeds' figures for the two matrices were lost, so Guanxi defines them:

- **Customer behaviour matrix** — recency × frequency, the behavioural core of RFM.
  Recent (time since last purchase ≤ threshold) and frequent (frequency ≥ threshold) →
  ``"loyal"``; recent and infrequent → ``"new"``; lapsed and frequent → ``"at_risk"``
  (valuable customers slipping away: win them back first); lapsed and infrequent →
  ``"lapsed"``. Default thresholds are the medians.
- **Customer value matrix** (Marcus 1998, "A practical yet meaningful approach to customer
  segmentation", *Journal of Consumer Marketing* 15(5)) — purchase frequency × average
  purchase value, split at the means as Marcus does: ``"best"`` (high, high),
  ``"frequent"`` (high frequency, low value), ``"spender"`` (low frequency, high value),
  ``"uncertain"`` (low, low). "High" means ≥ the threshold.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import stats

from guanxi.analytics._validation import FloatArray, as_vector, non_negative, same_length

__all__ = [
    "MatrixSegments",
    "RFMScores",
    "behaviour_matrix",
    "quantile_scores",
    "rfm_scores",
    "value_matrix",
]


class RFMScores(NamedTuple):
    recency: npt.NDArray[np.int64]
    frequency: npt.NDArray[np.int64]
    monetary: npt.NDArray[np.int64]
    cell: npt.NDArray[np.int64]


class MatrixSegments(NamedTuple):
    """Segment label per customer and the thresholds that produced them."""

    segment: npt.NDArray[np.str_]
    x_threshold: float
    y_threshold: float

    def counts(self) -> dict[str, int]:
        labels, counts = np.unique(self.segment, return_counts=True)
        return {str(label): int(count) for label, count in zip(labels, counts, strict=True)}


def quantile_scores(values: npt.ArrayLike, bins: int = 5, *, higher_is_better: bool = True) -> npt.NDArray[np.int64]:
    """Scores 1..bins by quantile; equal values share a score (see the module docstring)."""
    if int(bins) != bins or not 2 <= bins <= 9:
        raise ValueError(f"bins must be a whole number from 2 to 9, got {bins!r}")
    v = as_vector(values, "values")
    ranks = stats.rankdata(v if higher_is_better else -v, method="min")
    return (1 + np.floor(bins * (ranks - 1) / len(v))).astype(np.int64)


def rfm_scores(
    recency: npt.ArrayLike, frequency: npt.ArrayLike, monetary: npt.ArrayLike, bins: int = 5
) -> RFMScores:
    """R, F and M scores (1..bins, recent = high R) and the RFM cell per customer.

    ``recency`` is the time since the customer's last purchase, ``frequency`` the number
    of purchases and ``monetary`` their total or average value.
    """
    r = as_vector(recency, "recency")
    f = as_vector(frequency, "frequency")
    m = as_vector(monetary, "monetary")
    same_length(recency=r, frequency=f, monetary=m)
    non_negative(r, "recency")
    non_negative(f, "frequency")
    r_score = quantile_scores(r, bins, higher_is_better=False)
    f_score = quantile_scores(f, bins)
    m_score = quantile_scores(m, bins)
    return RFMScores(r_score, f_score, m_score, r_score * 100 + f_score * 10 + m_score)


def _quadrants(
    x: FloatArray, y: FloatArray, x_high: npt.NDArray[np.bool_], y_high: npt.NDArray[np.bool_], labels: tuple[str, str, str, str]
) -> npt.NDArray[np.str_]:
    """labels = (x high & y high, x high & y low, x low & y high, x low & y low)."""
    return np.select(
        [x_high & y_high, x_high & ~y_high, ~x_high & y_high],
        labels[:3],
        default=labels[3],
    ).astype(np.str_)


def _threshold(values: FloatArray, given: float | None, default: str, name: str) -> float:
    if given is None:
        return float(np.median(values) if default == "median" else np.mean(values))
    if not np.isfinite(given):
        raise ValueError(f"{name} must be finite")
    return float(given)


def behaviour_matrix(
    recency: npt.ArrayLike,
    frequency: npt.ArrayLike,
    *,
    recency_threshold: float | None = None,
    frequency_threshold: float | None = None,
) -> MatrixSegments:
    """Customer behaviour matrix: recency × frequency → loyal / new / at_risk / lapsed.

    ``recency`` is time since the last purchase; thresholds default to the medians.
    ``x_threshold`` of the result is the frequency threshold, ``y_threshold`` the recency one.
    """
    r = as_vector(recency, "recency")
    f = as_vector(frequency, "frequency")
    same_length(recency=r, frequency=f)
    non_negative(r, "recency")
    non_negative(f, "frequency")
    r_cut = _threshold(r, recency_threshold, "median", "recency_threshold")
    f_cut = _threshold(f, frequency_threshold, "median", "frequency_threshold")
    segment = _quadrants(f, r, f >= f_cut, r <= r_cut, ("loyal", "at_risk", "new", "lapsed"))
    return MatrixSegments(segment, f_cut, r_cut)


def value_matrix(
    frequency: npt.ArrayLike,
    average_purchase_value: npt.ArrayLike,
    *,
    frequency_threshold: float | None = None,
    value_threshold: float | None = None,
) -> MatrixSegments:
    """Customer value matrix (Marcus 1998): frequency × average purchase value.

    Returns best / frequent / spender / uncertain; thresholds default to the means.
    """
    f = as_vector(frequency, "frequency")
    v = as_vector(average_purchase_value, "average_purchase_value")
    same_length(frequency=f, average_purchase_value=v)
    non_negative(f, "frequency")
    f_cut = _threshold(f, frequency_threshold, "mean", "frequency_threshold")
    v_cut = _threshold(v, value_threshold, "mean", "value_threshold")
    segment = _quadrants(f, v, f >= f_cut, v >= v_cut, ("best", "frequent", "spender", "uncertain"))
    return MatrixSegments(segment, f_cut, v_cut)
