"""Look-alike customers: who has not bought a product yet but buys like those who have.

Cross-selling (DOMAIN.md §4) needs a shortlist per product. Each customer is a purchase
vector over the catalogue (binary by default: whether they bought each product, so one
bulk buyer does not dominate). For a product, the buyers' vectors — without the product's
own column, which would otherwise make every buyer trivially similar — are L2-normalised
and averaged into a centroid; every non-buyer is scored by the cosine similarity of their
vector to that centroid, i.e. their average cosine similarity to the buyers (Rocchio
1971; the centroid form of item-based look-alike modelling).

:class:`LookAlikes` precomputes the normalised sparse matrix once, so ranking one product
over 100,000 customers × 1,000 products is one sparse matrix–vector product (milliseconds).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import sparse

__all__ = ["LookAlikeRanking", "LookAlikes", "rank_look_alikes"]


class LookAlikeRanking(NamedTuple):
    """Non-buyers best first: their row indexes and cosine scores (0–1)."""

    customers: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]


class LookAlikes:
    """Index over a (customers × products) purchase matrix, dense or scipy.sparse."""

    def __init__(self, purchases: npt.ArrayLike | sparse.sparray | sparse.spmatrix, *, binary: bool = True) -> None:
        matrix = sparse.csr_array(purchases, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[1] == 0:
            raise ValueError(f"purchases must be a non-empty (customers × products) matrix, got {matrix.shape}")
        if not np.all(np.isfinite(matrix.data)):
            raise ValueError("purchases contains NaN or infinite values")
        if np.any(matrix.data < 0):
            raise ValueError("purchases must be non-negative (counts or amounts)")
        matrix.eliminate_zeros()
        if binary:
            matrix.data[:] = 1.0
        self.matrix = matrix
        self.by_product = matrix.tocsc()
        self.squared_norms = np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()

    @property
    def n_customers(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_products(self) -> int:
        return int(self.matrix.shape[1])

    def rank(self, product: int, top: int | None = None) -> LookAlikeRanking:
        """Customers who have not bought ``product`` (a column index), most similar first.

        Ties are ordered by customer index; customers with no other purchase score 0.
        """
        if not 0 <= int(product) < self.n_products or int(product) != product:
            raise ValueError(f"product must be a column index in 0..{self.n_products - 1}, got {product!r}")
        if top is not None and (int(top) != top or top < 1):
            raise ValueError("top must be a positive whole number")
        column = self.by_product[:, [int(product)]]
        buyers = column.indices
        own = np.zeros(self.n_customers)
        own[buyers] = column.data
        # Norms without the product's column, for buyers and non-buyers alike.
        norms = np.sqrt(np.maximum(self.squared_norms - own**2, 0.0))
        usable = buyers[norms[buyers] > 0]
        non_buyers = np.setdiff1d(np.arange(self.n_customers), buyers, assume_unique=True)
        if len(usable) == 0:
            scores = np.zeros(len(non_buyers))
        else:
            centroid = self.matrix[usable].T @ (1.0 / norms[usable])
            centroid[int(product)] = 0.0
            length = float(np.linalg.norm(centroid))
            raw = self.matrix[non_buyers] @ centroid if len(non_buyers) else np.zeros(0)
            with np.errstate(invalid="ignore", divide="ignore"):
                scores = np.where(norms[non_buyers] > 0, raw / (norms[non_buyers] * length), 0.0)
        if top is not None and top < len(scores):
            # Partial selection first: a full sort of 100,000 scores per product is wasted work.
            candidates = np.argpartition(-scores, top - 1)[:top]
            cutoff = scores[candidates].min()
            candidates = np.flatnonzero(scores >= cutoff)
        else:
            candidates = np.arange(len(scores))
        order = candidates[np.lexsort((non_buyers[candidates], -scores[candidates]))]
        if top is not None:
            order = order[:top]
        return LookAlikeRanking(non_buyers[order].astype(np.int64), scores[order])


def rank_look_alikes(
    purchases: npt.ArrayLike | sparse.sparray | sparse.spmatrix,
    product: int,
    top: int | None = None,
    *,
    binary: bool = True,
) -> LookAlikeRanking:
    """One-off ranking; build a :class:`LookAlikes` to rank many products over the same data."""
    return LookAlikes(purchases, binary=binary).rank(product, top)
