"""Grading customers by the profit they bring, the customer pyramid, and relationship stages.

**Pareto grades** (DOMAIN.md §4; the 80/20 rule of the seed texts). Customers with
negative profit or a bad-debt flag are ``"bad"`` (劣质客户). The others are ranked by
profit, highest first (equal profits keep their input order, so grading is
deterministic), and graded by the cumulative share of their total profit:

- ``"key"`` (关键客户): the smallest top set whose profit reaches ``key_share`` (default
  0.8) of the total — the seed fixes only the 80 %; the count follows from the data;
- ``"normal"`` (普通客户): the next customers, up to ``normal_share`` (default 0.95) of the
  total — the normal/small boundary is a product setting, 95 % is Guanxi's default;
- ``"small"`` (小客户): the rest, whose profit together is the last ``1 − normal_share``.

"Total" is the profit of the non-bad customers, so a bad debtor's loss does not make
the key set shrink. Profit per customer (margin minus cost to serve) is computed by the
caller.

**Relationship stages** (Dwyer, Schurr & Oh 1987; the four stages of the seed texts:
考察期 exploration, 形成期 formation, 稳定期 stability, 退化期 decline), read from a
customer's purchase value per period (oldest first, e.g. monthly revenue) with a window
of ``window`` periods:

1. exploration — no purchase yet, fewer than ``min_purchase_periods`` (2) periods with a
   purchase, or the first purchase lies within the last ``window`` periods;
2. decline — no purchase in the last ``window`` periods, or their value is below
   ``decline_ratio`` (0.5) × the value of the ``window`` periods before;
3. formation — the last window's value exceeds ``growth_ratio`` (1.2) × the window before
   (the relationship is still deepening);
4. stability — otherwise (purchases continue at a steady level).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from guanxi.analytics._validation import FloatArray, as_vector, same_length

__all__ = ["GRADES", "STAGES", "CustomerPyramid", "customer_pyramid", "pareto_grades", "relationship_stage"]

GRADES = ("key", "normal", "small", "bad")
STAGES = ("exploration", "formation", "stability", "decline")


def pareto_grades(
    profit: npt.ArrayLike,
    *,
    key_share: float = 0.8,
    normal_share: float = 0.95,
    bad_debt: npt.ArrayLike | None = None,
) -> npt.NDArray[np.str_]:
    """Grade per customer: key, normal, small or bad (see the module docstring)."""
    p = as_vector(profit, "profit")
    if not 0 < key_share <= normal_share <= 1:
        raise ValueError("shares must satisfy 0 < key_share <= normal_share <= 1")
    bad = p < 0
    if bad_debt is not None:
        flags = np.asarray(bad_debt)
        if flags.shape != p.shape:
            raise ValueError(f"bad_debt must have one flag per customer ({len(p)}), got shape {flags.shape}")
        bad |= flags.astype(bool)
    grades = np.full(len(p), "small", dtype="<U6")
    grades[bad] = "bad"
    good = np.flatnonzero(~bad)
    if len(good) == 0:
        return grades
    order = good[np.argsort(-p[good], kind="stable")]
    cumulative = np.cumsum(p[order])
    total = cumulative[-1]
    if total <= 0:
        return grades
    # Relative slack so that a share reached exactly is not lost to rounding in cumsum.
    slack = 1e-12 * total
    n_key = int(np.searchsorted(cumulative, key_share * total - slack, side="left")) + 1
    n_normal = int(np.searchsorted(cumulative, normal_share * total - slack, side="left")) + 1
    grades[order[:n_key]] = "key"
    grades[order[n_key:n_normal]] = "normal"
    return grades


class CustomerPyramid(NamedTuple):
    """Counts and profit per grade, top of the pyramid first (key, normal, small, bad)."""

    grades: tuple[str, ...]
    counts: npt.NDArray[np.int64]
    profit: FloatArray
    count_share: FloatArray
    profit_share: FloatArray


def customer_pyramid(grades: npt.ArrayLike, profit: npt.ArrayLike) -> CustomerPyramid:
    """The pyramid of customer counts against the pyramid of profit, per grade.

    Profit shares are of the total profit of all customers (bad ones included), so the
    key share can exceed 100 % when bad customers lose money.
    """
    labels = np.asarray(grades).astype(str)
    p = as_vector(profit, "profit")
    same_length(grades=labels, profit=p)
    unknown = set(np.unique(labels)) - set(GRADES)
    if unknown:
        raise ValueError(f"unknown grade(s) {sorted(unknown)}; expected {GRADES}")
    counts = np.array([np.count_nonzero(labels == g) for g in GRADES], dtype=np.int64)
    totals = np.array([p[labels == g].sum() for g in GRADES])
    grand = totals.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        profit_share = totals / grand if grand != 0 else np.full(len(GRADES), np.nan)
    return CustomerPyramid(GRADES, counts, totals, counts / len(labels), profit_share)


def relationship_stage(
    purchases_by_period: npt.ArrayLike,
    *,
    window: int = 3,
    min_purchase_periods: int = 2,
    growth_ratio: float = 1.2,
    decline_ratio: float = 0.5,
) -> npt.NDArray[np.str_]:
    """Stage per customer from a (customers × periods) array of purchase values, oldest first."""
    history = np.asarray(purchases_by_period, dtype=np.float64)
    if history.ndim == 1:
        history = history[None, :]
    if history.ndim != 2 or history.shape[0] == 0:
        raise ValueError("purchases_by_period must be a non-empty (customers × periods) array")
    if not np.all(np.isfinite(history)):
        raise ValueError("purchases_by_period contains NaN or infinite values")
    if np.any(history < 0):
        raise ValueError("purchases_by_period must be non-negative (returns are netted before)")
    if int(window) != window or window < 1:
        raise ValueError("window must be a positive whole number")
    if history.shape[1] < 2 * window:
        raise ValueError(f"need at least 2 × window = {2 * window} periods of history, got {history.shape[1]}")
    if not 0 <= decline_ratio <= 1 <= growth_ratio:
        raise ValueError("ratios must satisfy 0 <= decline_ratio <= 1 <= growth_ratio")

    n_periods = history.shape[1]
    bought = history > 0
    active_periods = bought.sum(axis=1)
    first = np.where(active_periods > 0, np.argmax(bought, axis=1), n_periods)
    recent = history[:, -window:].sum(axis=1)
    before = history[:, -2 * window : -window].sum(axis=1)

    exploration = (active_periods < min_purchase_periods) | (first >= n_periods - window)
    decline = (recent == 0) | (recent < decline_ratio * before)
    formation = recent > growth_ratio * before
    return np.select(
        [exploration, decline, formation], ["exploration", "decline", "formation"], default="stability"
    ).astype("<U11")
