"""Satisfaction measures: the importance–performance matrix, SERVQUAL gaps, NPS and C = b/a.

- **Importance × performance (satisfaction) matrix** (Martilla & James 1977,
  "Importance-performance analysis", *Journal of Marketing* 41(1); the seed's 满意度评价矩阵).
  Each attribute is placed by its importance and its performance (satisfaction) against
  thresholds — the means over attributes unless given — into four zones:
  ``"urgent_improvement"`` (I, 急需改进: important, performing below the threshold),
  ``"competitive_advantage"`` (II, 竞争优势: important and performing well),
  ``"opportunity"`` (III, 竞争机会: neither important nor performing well — low priority
  now, a chance later) and ``"maintain"`` (IV, 维持现状: performing well on what matters
  little; keep, don't add). A value equal to its threshold counts as high.
- **SERVQUAL gaps** (Parasuraman, Zeithaml & Berry 1988): gap = perception − expectation
  per item, averaged per RATER dimension (reliability, assurance, tangibles, empathy,
  responsiveness); negative means service falls short of expectations.
- **Net Promoter Score** (Reichheld 2003): % promoters (9–10) − % detractors (0–6) on the
  0–10 recommendation question.
- **C = b/a** (DOMAIN.md §7): perceived (b) over expected (a); below 1 dissatisfied,
  1 neutral ("fairly satisfied"), above 1 satisfied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from guanxi.analytics._validation import FloatArray, as_vector, same_length

__all__ = [
    "ZONES",
    "ImportancePerformance",
    "importance_performance",
    "net_promoter_score",
    "satisfaction_ratio",
    "satisfaction_state",
    "servqual_gaps",
]

ZONES = ("urgent_improvement", "competitive_advantage", "opportunity", "maintain")


class ImportancePerformance(NamedTuple):
    zone: npt.NDArray[np.str_]
    importance_threshold: float
    performance_threshold: float


def importance_performance(
    importance: npt.ArrayLike,
    performance: npt.ArrayLike,
    *,
    importance_threshold: float | None = None,
    performance_threshold: float | None = None,
) -> ImportancePerformance:
    """Zone of each attribute in the importance × performance matrix (thresholds: means)."""
    imp = as_vector(importance, "importance")
    perf = as_vector(performance, "performance")
    same_length(importance=imp, performance=perf)
    i_cut = float(np.mean(imp)) if importance_threshold is None else float(importance_threshold)
    p_cut = float(np.mean(perf)) if performance_threshold is None else float(performance_threshold)
    if not (np.isfinite(i_cut) and np.isfinite(p_cut)):
        raise ValueError("thresholds must be finite")
    important = imp >= i_cut
    performing = perf >= p_cut
    zone = np.select(
        [important & ~performing, important & performing, ~important & ~performing],
        ZONES[:3],
        default=ZONES[3],
    ).astype("<U21")
    return ImportancePerformance(zone, i_cut, p_cut)


def servqual_gaps(
    perception: npt.ArrayLike,
    expectation: npt.ArrayLike,
    dimensions: Mapping[str, Sequence[int]] | None = None,
) -> dict[str, float] | FloatArray:
    """Perception − expectation per item (respondents × items arrays averaged over respondents).

    With ``dimensions`` (e.g. {"reliability": [0, 1, 2], ...} — column indexes per RATER
    dimension) the item gaps are averaged per dimension and returned as a dict;
    otherwise the per-item mean gaps are returned.
    """
    p = np.asarray(perception, dtype=np.float64)
    e = np.asarray(expectation, dtype=np.float64)
    if p.shape != e.shape:
        raise ValueError(f"perception and expectation shapes differ: {p.shape} vs {e.shape}")
    if p.size == 0:
        raise ValueError("perception is empty")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(e))):
        raise ValueError("perception and expectation must not contain NaN")
    if p.ndim == 1:
        p, e = p[None, :], e[None, :]
    item_gaps = (p - e).mean(axis=0)
    if dimensions is None:
        return item_gaps
    result: dict[str, float] = {}
    for name, columns in dimensions.items():
        cols = list(columns)
        if not cols:
            raise ValueError(f"dimension {name!r} has no items")
        if min(cols) < 0 or max(cols) >= len(item_gaps):
            raise ValueError(f"dimension {name!r} refers to an item outside 0..{len(item_gaps) - 1}")
        result[name] = float(item_gaps[cols].mean())
    return result


def net_promoter_score(scores: npt.ArrayLike) -> float:
    """NPS on the 0–10 scale, from −100 to 100."""
    s = as_vector(scores, "scores")
    if np.any((s < 0) | (s > 10)) or np.any(s != np.floor(s)):
        raise ValueError("NPS scores must be whole numbers from 0 to 10")
    return float(100.0 * (np.mean(s >= 9) - np.mean(s <= 6)))


def satisfaction_ratio(perceived: npt.ArrayLike, expected: npt.ArrayLike) -> FloatArray:
    """C = b / a per customer: perceived performance b over expectation a (a > 0)."""
    b = as_vector(perceived, "perceived")
    a = as_vector(expected, "expected")
    same_length(perceived=b, expected=a)
    if np.any(a <= 0):
        raise ValueError("expected (a) must be positive for the ratio b/a")
    return b / a


def satisfaction_state(ratio: npt.ArrayLike, *, tolerance: float = 0.0) -> npt.NDArray[np.str_]:
    """"dissatisfied" (C < 1), "neutral" (C = 1 within tolerance) or "satisfied" (C > 1)."""
    c = as_vector(ratio, "ratio")
    return np.select(
        [c < 1 - tolerance, c > 1 + tolerance], ["dissatisfied", "satisfied"], default="neutral"
    ).astype("<U12")
