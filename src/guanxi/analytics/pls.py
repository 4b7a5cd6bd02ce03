"""PLS path modelling (PLS-SEM) for satisfaction indexes such as ACSI and ECSI.

Customer-satisfaction index models (ACSI: Fornell et al. 1996; ECSI: Tenenhaus et al.
2005) measure each construct — image, expectation, perceived quality, value,
satisfaction, complaints, loyalty — by a few questionnaire items, and relate the
constructs by a recursive path model. PLS estimates both at once without distributional
assumptions, and its construct weights turn item means into a 0–100 index.

The algorithm is Lohmöller's (1989) as implemented by seminr (Ray, Danks & Calero
Valdez): items standardised (n − 1), outer weights initialised to 1, then alternately
inner proxies by the *path weighting* scheme (regression coefficients from a construct's
predecessors, correlations to its successors) and *Mode A* outer weights (covariance of
each item with its construct's inner proxy), rescaled so each construct score has unit
variance, until the summed absolute change of the weights falls below ``tol`` (1e-7, as
seminr). Path coefficients are OLS on the final construct scores; loadings are item–score
correlations.

Input is a DataFrame-like (anything indexable by column name, e.g. a pandas DataFrame
or a dict of arrays) or a 2-D array with ``columns``; pandas is never imported. Missing
values are refused: impute before fitting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from guanxi.analytics._validation import FloatArray

__all__ = ["PLSPathModel", "satisfaction_index"]


def _standardize(values: FloatArray) -> FloatArray:
    centered = values - values.mean(axis=0)
    return centered / centered.std(axis=0, ddof=1)


class PLSPathModel:
    """PLS-SEM with Mode A outer weights and the path weighting inner scheme.

    ``measurement`` maps each construct to its items (column names); ``paths`` lists
    (source, target) structural relations, which must form a recursive (acyclic) model.
    """

    def __init__(
        self,
        measurement: Mapping[str, Sequence[str]],
        paths: Iterable[tuple[str, str]],
        *,
        max_iter: int = 300,
        tol: float = 1e-7,
    ) -> None:
        self.measurement = {construct: list(items) for construct, items in measurement.items()}
        self.paths = [tuple(path) for path in paths]
        self.max_iter = max_iter
        self.tol = tol
        self._check_model()

    def _check_model(self) -> None:
        if not self.measurement:
            raise ValueError("measurement model is empty: give at least one construct and its items")
        seen: dict[str, str] = {}
        for construct, items in self.measurement.items():
            if not items:
                raise ValueError(f"construct {construct!r} has no items")
            for item in items:
                if item in seen:
                    raise ValueError(f"item {item!r} is used by both {seen[item]!r} and {construct!r}")
                seen[item] = construct
        if not self.paths:
            raise ValueError("structural model is empty: give at least one (source, target) path")
        constructs = set(self.measurement)
        for path in self.paths:
            if len(path) != 2:
                raise ValueError(f"a path is a (source, target) pair, got {path!r}")
            source, target = path
            for end in (source, target):
                if end not in constructs:
                    raise ValueError(f"path {source!r} -> {target!r} names unknown construct {end!r}")
            if source == target:
                raise ValueError(f"path {source!r} -> {target!r} loops on itself")
        if len(set(self.paths)) != len(self.paths):
            raise ValueError("a structural path is listed twice")
        linked = {end for path in self.paths for end in path}
        isolated = [c for c in self.measurement if c not in linked]
        if isolated:
            raise ValueError(f"construct(s) {isolated} take part in no structural path")
        # Recursive model: repeatedly remove constructs without predecessors.
        remaining = set(constructs)
        edges = set(self.paths)
        while remaining:
            roots = {c for c in remaining if not any(t == c and s in remaining for s, t in edges)}
            if not roots:
                raise ValueError(f"the structural model has a cycle among {sorted(remaining)}")
            remaining -= roots

    @staticmethod
    def _matrix(data: Any, items: list[str], columns: Sequence[str] | None) -> FloatArray:
        if columns is not None:
            array = np.asarray(data, dtype=np.float64)
            if array.ndim != 2 or array.shape[1] != len(columns):
                raise ValueError(
                    f"data must be a 2-D array with one column per name in columns "
                    f"({len(columns)}), got shape {array.shape}"
                )
            position = {name: i for i, name in enumerate(columns)}
            missing = [item for item in items if item not in position]
            if missing:
                raise ValueError(f"item(s) {missing} not among the columns")
            matrix = array[:, [position[item] for item in items]]
        else:
            if isinstance(data, np.ndarray) and data.dtype.names is None:
                raise ValueError("a plain 2-D array needs columns=[...] naming its columns")
            vectors = []
            for item in items:
                try:
                    vectors.append(np.asarray(data[item], dtype=np.float64))
                except (KeyError, IndexError, ValueError):
                    raise ValueError(f"item {item!r} not found in the data") from None
            lengths = {len(v) for v in vectors}
            if len(lengths) != 1:
                raise ValueError("item columns have different lengths")
            matrix = np.column_stack(vectors)
        if matrix.shape[0] < 3:
            raise ValueError(f"need at least 3 respondents, got {matrix.shape[0]}")
        if not np.all(np.isfinite(matrix)):
            bad = [items[j] for j in np.flatnonzero(~np.all(np.isfinite(matrix), axis=0))]
            raise ValueError(f"item(s) {bad} contain NaN or infinite values: impute them first")
        constant = [items[j] for j in np.flatnonzero(matrix.std(axis=0) == 0)]
        if constant:
            raise ValueError(f"item(s) {constant} have zero variance")
        return matrix

    def fit(self, data: Any, columns: Sequence[str] | None = None) -> PLSPathModel:
        """Estimate the model on ``data`` (DataFrame-like, or 2-D array with ``columns``)."""
        constructs = list(self.measurement)
        items = [item for construct in constructs for item in self.measurement[construct]]
        raw = self._matrix(data, items, columns)
        n = raw.shape[0]
        X = _standardize(raw)
        k = len(constructs)
        position = {c: j for j, c in enumerate(constructs)}
        mask = np.zeros((len(items), k))
        for j, construct in enumerate(constructs):
            for item in self.measurement[construct]:
                mask[items.index(item), j] = 1.0
        adjacency = np.zeros((k, k))
        for source, target in self.paths:
            adjacency[position[source], position[target]] = 1.0
        predecessors = {j: np.flatnonzero(adjacency[:, j]) for j in range(k)}
        endogenous = [j for j in range(k) if len(predecessors[j])]

        def unit_variance(weights: FloatArray) -> FloatArray:
            scores = X @ weights
            return weights / np.sqrt(np.sum(scores**2, axis=0) / (n - 1))

        weights = unit_variance(mask.copy())
        converged = False
        iteration = 0
        for iteration in range(1, self.max_iter + 1):
            scores = _standardize(X @ weights)
            correlations = scores.T @ scores / (n - 1)
            inner = correlations * adjacency.T  # successors: correlation
            for j in endogenous:
                preds = predecessors[j]
                inner[preds, j] = np.linalg.solve(correlations[np.ix_(preds, preds)], correlations[preds, j])
            proxies = _standardize(scores @ inner)
            new_weights = unit_variance((X.T @ proxies / (n - 1)) * mask)
            change = float(np.sum(np.abs(new_weights - weights)))
            weights = new_weights
            if change < self.tol:
                converged = True
                break

        scores = X @ weights
        correlations = np.corrcoef(scores, rowvar=False)
        path_coefficients = np.zeros((k, k))
        r_squared = np.full(k, np.nan)
        for j in endogenous:
            preds = predecessors[j]
            beta = np.linalg.solve(correlations[np.ix_(preds, preds)], correlations[preds, j])
            path_coefficients[preds, j] = beta
            r_squared[j] = float(beta @ correlations[preds, j])
        loadings = (X.T @ _standardize(scores) / (n - 1)) * mask

        self.constructs_ = constructs
        self.items_ = items
        self.outer_weights_ = weights
        self.loadings_ = loadings
        self.path_coefficients_ = path_coefficients
        self.r_squared_ = r_squared
        self.scores_ = scores
        self.n_iter_ = iteration
        self.converged_ = converged
        self.item_means_ = raw.mean(axis=0)
        self.item_std_ = raw.std(axis=0, ddof=1)
        self.n_observations_ = n
        return self

    # ---------------------------------------------------------------- accessors

    def _require_fit(self) -> None:
        if not hasattr(self, "path_coefficients_"):
            raise ValueError("PLSPathModel is not fitted yet: call fit() first")

    def _construct(self, name: str) -> int:
        self._require_fit()
        if name not in self.constructs_:
            raise ValueError(f"unknown construct {name!r}")
        return self.constructs_.index(name)

    def path_coefficient(self, source: str, target: str) -> float:
        """The standardised path coefficient source → target (0 where there is no path)."""
        return float(self.path_coefficients_[self._construct(source), self._construct(target)])

    def r_squared(self, construct: str) -> float:
        """R² of an endogenous construct (NaN for an exogenous one)."""
        return float(self.r_squared_[self._construct(construct)])

    def weights(self, construct: str) -> FloatArray:
        """Outer weights of the construct's items, in the order they were given."""
        j = self._construct(construct)
        rows = [self.items_.index(item) for item in self.measurement[construct]]
        return self.outer_weights_[rows, j]

    def loadings(self, construct: str) -> FloatArray:
        j = self._construct(construct)
        rows = [self.items_.index(item) for item in self.measurement[construct]]
        return self.loadings_[rows, j]

    def index(self, construct: str, scale_min: float = 1.0, scale_max: float = 10.0) -> float:
        """The ACSI/ECSI 0–100 index of ``construct`` for items on a [scale_min, scale_max] scale.

        Fornell et al. (1996): the standardised weights are unstandardised (divided by the
        item's standard deviation), rescaled to sum to one, applied to the item means on the
        original scale, and the result mapped linearly onto 0–100.
        """
        j = self._construct(construct)
        rows = [self.items_.index(item) for item in self.measurement[construct]]
        return satisfaction_index(
            self.outer_weights_[rows, j] / self.item_std_[rows],
            self.item_means_[rows],
            scale_min,
            scale_max,
        )


def satisfaction_index(
    weights: npt.ArrayLike, item_means: npt.ArrayLike, scale_min: float = 1.0, scale_max: float = 10.0
) -> float:
    """(Σ w̃·mean − min) / (max − min) × 100 with w̃ = weights / Σ weights (ACSI formula)."""
    w = np.asarray(weights, dtype=np.float64)
    means = np.asarray(item_means, dtype=np.float64)
    if w.shape != means.shape or w.ndim != 1 or w.size == 0:
        raise ValueError("weights and item_means must be non-empty 1-D arrays of the same length")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(means))):
        raise ValueError("weights and item_means must be finite")
    if not scale_max > scale_min:
        raise ValueError("scale_max must be greater than scale_min")
    total = w.sum()
    if total == 0:
        raise ValueError("weights sum to zero: the index is undefined")
    return float((w / total @ means - scale_min) / (scale_max - scale_min) * 100.0)
