"""Kano analysis: which product or service attributes are must-be, one-dimensional or attractive.

Each respondent answers two questions per attribute: how they feel if the attribute is
present (functional) and if it is absent (dysfunctional), each on Kano's five answers
(coded 1–5 here):

1. like ("I like it that way")          2. must-be ("It must be that way")
3. neutral ("I am neutral")             4. live-with ("I can live with it that way")
5. dislike ("I dislike it that way")

The Kano evaluation table (Kano et al. 1984; as printed in Berger et al. 1993, "Kano's
methods for understanding customer-defined quality", *Center for Quality of Management
Journal* 2(4), and Matzler & Hinterhuber 1998) maps the pair to a category: A attractive,
O one-dimensional, M must-be, I indifferent, R reverse, Q questionable. An attribute's
category is the most frequent answer category; ties are broken by Berger et al.'s rule
M > O > A > I (the category that hurts most when ignored wins), then R, Q.

Berger's customer-satisfaction coefficients (Timko, in Berger et al. 1993):
Better = (A + O) / (A + O + M + I), how much satisfaction the attribute can add;
Worse = −(O + M) / (A + O + M + I), how much dissatisfaction its absence causes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["ANSWERS", "CATEGORIES", "EVALUATION_TABLE", "KanoResult", "classify", "coefficients", "evaluate"]

ANSWERS = ("like", "must-be", "neutral", "live-with", "dislike")
CATEGORIES = ("A", "O", "M", "I", "R", "Q")

# Rows: functional answer 1..5; columns: dysfunctional answer 1..5.
EVALUATION_TABLE = np.array(
    [
        ["Q", "A", "A", "A", "O"],
        ["R", "I", "I", "I", "M"],
        ["R", "I", "I", "I", "M"],
        ["R", "I", "I", "I", "M"],
        ["R", "R", "R", "R", "Q"],
    ]
)

_TIE_ORDER = ("M", "O", "A", "I", "R", "Q")


def _answers(values: npt.ArrayLike, name: str) -> npt.NDArray[np.int64]:
    array = np.asarray(values)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    try:
        numeric = array.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold answer codes 1–5") from None
    if np.any(~np.isin(numeric, [1, 2, 3, 4, 5])):
        raise ValueError(f"{name} must hold answer codes 1–5 (1 like … 5 dislike)")
    return numeric.astype(np.int64)


def evaluate(functional: npt.ArrayLike, dysfunctional: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Category letter for each (functional, dysfunctional) answer pair; shapes broadcast."""
    f = _answers(functional, "functional")
    d = _answers(dysfunctional, "dysfunctional")
    try:
        f, d = np.broadcast_arrays(f, d)
    except ValueError:
        raise ValueError(f"functional and dysfunctional shapes differ: {f.shape} vs {d.shape}") from None
    return EVALUATION_TABLE[f - 1, d - 1]


def coefficients(counts: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Better and Worse from category counts ordered as CATEGORIES (A, O, M, I, R, Q).

    ``counts`` may be one row or one row per attribute; NaN where A+O+M+I is zero.
    """
    table = np.asarray(counts, dtype=np.float64)
    if table.shape[-1] != len(CATEGORIES):
        raise ValueError(f"counts need {len(CATEGORIES)} columns (A, O, M, I, R, Q), got shape {table.shape}")
    if np.any(table < 0) or not np.all(np.isfinite(table)):
        raise ValueError("counts must be finite and non-negative")
    a, o, m, i = table[..., 0], table[..., 1], table[..., 2], table[..., 3]
    total = a + o + m + i
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a + o) / total, -(o + m) / total


class KanoResult(NamedTuple):
    """Per attribute: counts (attributes × A,O,M,I,R,Q), modal category, Better, Worse."""

    counts: npt.NDArray[np.int64]
    category: npt.NDArray[np.str_]
    better: npt.NDArray[np.float64]
    worse: npt.NDArray[np.float64]


def classify(functional: npt.ArrayLike, dysfunctional: npt.ArrayLike) -> KanoResult:
    """Kano categories of each attribute from (respondents × attributes) answer arrays."""
    f = _answers(functional, "functional")
    d = _answers(dysfunctional, "dysfunctional")
    if f.shape != d.shape:
        raise ValueError(f"functional and dysfunctional shapes differ: {f.shape} vs {d.shape}")
    if f.ndim == 1:
        f, d = f[:, None], d[:, None]
    if f.ndim != 2:
        raise ValueError("answers must be (respondents × attributes)")
    letters = evaluate(f, d)
    counts = np.stack([(letters == c).sum(axis=0) for c in CATEGORIES], axis=1).astype(np.int64)
    ranked = counts[:, [CATEGORIES.index(c) for c in _TIE_ORDER]]
    category = np.array(_TIE_ORDER)[np.argmax(ranked, axis=1)]  # argmax keeps the first of equals
    better, worse = coefficients(counts)
    return KanoResult(counts, category, better, worse)
