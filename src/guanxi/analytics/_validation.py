"""Input checks shared by the analytics models.

Every public function turns its array-likes into float arrays here, so that bad input
fails early with a ``ValueError`` that names the argument and the problem, instead of a
NaN deep inside an optimiser.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def as_vector(values: npt.ArrayLike, name: str, *, allow_empty: bool = False) -> FloatArray:
    """A finite 1-D float array, or a ValueError naming ``name``."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return array


def same_length(**arrays: FloatArray) -> int:
    """The common length of ``arrays``, or a ValueError listing the lengths."""
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}={length}" for name, length in lengths.items())
        raise ValueError(f"inputs have mismatched lengths: {listed}")
    return next(iter(lengths.values()))


def non_negative(values: FloatArray, name: str) -> None:
    if np.any(values < 0):
        raise ValueError(f"{name} must be non-negative ({int(np.sum(values < 0))} negative value(s))")


def whole_numbers(values: FloatArray, name: str) -> None:
    if np.any(values != np.floor(values)):
        raise ValueError(f"{name} must hold whole numbers (counts of purchases)")


def check_rfm_triplet(
    frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate Fader–Hardie (x, t_x, T) data: counts ≥ 0, 0 ≤ t_x ≤ T, t_x = 0 when x = 0."""
    x = as_vector(frequency, "frequency")
    t_x = as_vector(recency, "recency")
    t_cal = as_vector(T, "T")
    same_length(frequency=x, recency=t_x, T=t_cal)
    non_negative(x, "frequency")
    whole_numbers(x, "frequency")
    non_negative(t_x, "recency")
    if np.any(t_cal <= 0):
        raise ValueError("T (length of observation) must be positive")
    # A tolerance, because recency and T often arrive rounded to two decimals.
    too_recent = t_x > t_cal * (1 + 1e-9) + 1e-9
    if np.any(too_recent):
        raise ValueError(
            f"recency must not exceed T ({int(np.sum(too_recent))} customer(s) with recency > T)"
        )
    if np.any((x == 0) & (t_x > 0)):
        raise ValueError("recency must be 0 for customers with frequency 0 (no repeat purchase)")
    return x, t_x, np.maximum(t_cal, t_x)

