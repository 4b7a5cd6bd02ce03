"""Customer lifetime value: buy-till-you-die models of who is still a customer and what they will spend.

A CRM sees only purchases, never the moment a customer quietly leaves. The models here
turn each customer's purchase history, summarised as frequency (repeat purchases ``x``),
recency (time of the last repeat purchase ``t_x``, measured from the first purchase) and
age ``T`` (time from the first purchase to the end of observation), into the probability
that the customer is still "alive", the purchases to expect, and, with the Gamma-Gamma
spend model, a discounted customer lifetime value.

- :class:`BetaGeo` — BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy
  way", Marketing Science 24(2)).
- :class:`ParetoNBD` — Pareto/NBD (Schmittlein, Morrison & Colombo 1987; likelihood and
  conditional expressions as in Fader & Hardie 2005, "A note on deriving the Pareto/NBD
  model and related expressions", and 2006 for P(X(t)=x)).
- :class:`GammaGamma` — spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV:
  using iso-value curves for customer base analysis", JMR 42(4); Fader & Hardie 2013,
  "The Gamma-Gamma model of monetary value").
- :func:`summary_from_transactions` — (x, t_x, T, average repeat spend) from a transaction log.
- :func:`customer_lifetime_value` — discounted expected margin per period.

Time is in whatever unit the data use (weeks for CDNOW); ``log_likelihood_`` is the total
over customers in that unit. Parameters are fitted on the log scale with analytic gradients
(BG/NBD, Gamma-Gamma) or central differences (Pareto/NBD) by L-BFGS-B, with a Nelder-Mead
fallback; the numerically delicate pieces (the BG/NBD two-part likelihood, the Pareto/NBD
``A_0`` difference of hypergeometric terms) are computed on the log scale.
lifetimes (Davidson-Pilon, MIT) was the reference for the stable Pareto/NBD ``A_0``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats

from guanxi.analytics._validation import (
    FloatArray,
    as_vector,
    check_rfm_triplet,
    non_negative,
    same_length,
    whole_numbers,
)

__all__ = [
    "BetaGeo",
    "GammaGamma",
    "ParetoNBD",
    "RFMSummary",
    "customer_lifetime_value",
    "summary_from_transactions",
]

_LOG_BOUND = 30.0  # parameters live in [e^-30, e^30]; beyond that the fit has diverged


def _fit_log_params(
    objective: Callable[[FloatArray], tuple[float, FloatArray] | float],
    start: FloatArray,
    *,
    analytic_gradient: bool,
    tol: float,
    max_iter: int,
) -> tuple[FloatArray, float, bool, int]:
    """Minimise a negative log-likelihood over log-parameters; fall back to Nelder-Mead.

    Returns (log-parameters, minimum, converged, iterations).
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
    options = {"maxiter": max_iter, "ftol": tol, "gtol": 1e-8, "maxcor": 20}
    with np.errstate(all="ignore"):
        if analytic_gradient:
            # Unbounded: with exact gradients the steps stay sane, and L-BFGS-B's bound
            # handling costs as much as a likelihood evaluation on CDNOW-sized data.
            result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B", options=options)
        else:
            result = optimize.minimize(
                objective, start, jac="3-point", method="L-BFGS-B", bounds=bounds, options=options
            )
        iterations = int(result.nit)
        best_x, best_f = result.x, float(result.fun)
        ok = bool(result.success) and np.isfinite(best_f)
        if not ok:
            # L-BFGS-B can stall on a flat or badly scaled surface; the simplex does not need
            # gradients and restarts from wherever L-BFGS-B got to (or the start).
            value_only = (lambda p: objective(p)[0]) if analytic_gradient else objective
            origin = best_x if np.isfinite(best_f) else start
            # Bounded and capped: on a degenerate sample (a dozen customers buying on the same days)
            # the likelihood keeps creeping up towards infinite parameters, and an unbounded simplex
            # with 200,000 iterations took two minutes to say "not converged".
            simplex = optimize.minimize(
                value_only,
                np.clip(origin, -_LOG_BOUND, _LOG_BOUND),
                method="Nelder-Mead",
                bounds=bounds,
                options={"maxiter": 20 * max_iter, "maxfev": 20 * max_iter, "xatol": 1e-10, "fatol": tol, "adaptive": True},
            )
            iterations += int(simplex.nit)
            if np.isfinite(simplex.fun) and (not np.isfinite(best_f) or simplex.fun <= best_f):
                best_x, best_f = simplex.x, float(simplex.fun)
            ok = bool(simplex.success) and np.isfinite(best_f)
    if not ok:
        warnings.warn("maximum-likelihood fit did not converge", RuntimeWarning, stacklevel=3)
    return np.asarray(best_x, dtype=np.float64), best_f, ok, iterations


def _time_scale(T: FloatArray) -> float:
    """Scale time so the longest observation is 10 units: keeps the start point sensible."""
    return 10.0 / float(np.max(T))


def _broadcast_customers(
    frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    return check_rfm_triplet(frequency, recency, T)


def _positive_horizon(t: npt.ArrayLike) -> FloatArray:
    horizon = np.asarray(t, dtype=np.float64)
    if np.any(~np.isfinite(horizon)) or np.any(horizon < 0):
        raise ValueError("t (the forecast horizon) must be finite and non-negative")
    return horizon


class _FittedCheck:
    _param_names: tuple[str, ...] = ()

    def _require_fit(self) -> tuple[float, ...]:
        if not hasattr(self, "log_likelihood_"):
            raise ValueError(f"{type(self).__name__} is not fitted yet: call fit() first")
        return tuple(getattr(self, f"{name}_") for name in self._param_names)

    def __repr__(self) -> str:
        if not hasattr(self, "log_likelihood_"):
            return f"{type(self).__name__}()"
        fitted = ", ".join(f"{name}={getattr(self, f'{name}_'):.4f}" for name in self._param_names)
        return f"{type(self).__name__}({fitted}, log_likelihood={self.log_likelihood_:.2f})"


# --------------------------------------------------------------------------- BG/NBD


def _distinct_pairs(x: FloatArray, T: FloatArray) -> tuple[FloatArray, FloatArray, npt.NDArray[np.intp]]:
    """Distinct (x, T) pairs and, per customer, the index of its pair.

    Two one-key sorts (T, then an integer key) are several times faster than lexsort.
    """
    uT, T_code = np.unique(T, return_inverse=True)
    ux, x_code = np.unique(x, return_inverse=True)
    key = x_code.astype(np.int64) * len(uT) + T_code
    ukey, inverse = np.unique(key, return_inverse=True)
    return ux[ukey // len(uT)], uT[ukey % len(uT)], inverse


def _group_counts(x: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp], FloatArray]:
    """Distinct purchase counts, each customer's index among them, and their frequencies.

    Counts are whole numbers, usually small: a bincount is linear where np.unique sorts.
    """
    top = int(x.max())
    if top > 4 * len(x) + 1024:
        unique, index, counts = np.unique(x, return_inverse=True, return_counts=True)
        return unique, index, counts.astype(np.float64)
    as_int = x.astype(np.intp)
    counts = np.bincount(as_int)
    present = np.flatnonzero(counts)
    position = np.zeros(top + 1, dtype=np.intp)
    position[present] = np.arange(len(present))
    return present.astype(np.float64), position[as_int], counts[present].astype(np.float64)


class _BetaGeoData:
    """Customers grouped once: identical (x, t_x, T) rows are weighted, and terms that
    depend only on x are computed once per distinct x."""

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> None:
        self.unique_x, self.index, self.counts = _group_counts(x)
        self.total_count = float(len(x))
        # b + x − 1 only matters for x > 0; x = 0 gets a harmless stand-in.
        self.unique_x_minus_1 = np.where(self.unique_x > 0, self.unique_x - 1, 0.0)
        repeat = x > 0
        self.index_repeat = self.index[repeat]
        self.x_repeat = x[repeat]
        self.weight_repeat = np.ones(len(self.x_repeat))
        # Customers without repeat purchases differ only by T, which cohorts share.
        T_single, single_counts = np.unique(T[~repeat], return_counts=True)
        self.weight_single = single_counts.astype(np.float64)
        self.n_single = float(self.weight_single.sum())
        self.zero_index = np.flatnonzero(self.unique_x == 0)
        self.n_unique = len(self.unique_x)
        self.total_x = float(np.sum(x))
        # One array of every time the likelihood adds α to: one log and one division per call.
        n_repeat = len(self.x_repeat)
        self.times = np.concatenate((T[repeat], t_x[repeat], T_single))
        self.slices = (slice(0, n_repeat), slice(n_repeat, 2 * n_repeat), slice(2 * n_repeat, None))


def _bgnbd_negative_ll(log_params: FloatArray, data: _BetaGeoData) -> tuple[float, FloatArray]:
    """Negative BG/NBD log-likelihood and its gradient with respect to the log-parameters.

    Per customer, ℓ = lnΓ(r+x) − lnΓ(r) + r ln α + ln(e^{L1} + δ_{x>0} e^{L2}) with
    L1 = ln B(a, b+x) − ln B(a, b) − (r+x) ln(α+T) and
    L2 = ln B(a+1, b+x−1) − ln B(a, b) − (r+x) ln(α+t_x)  (FHL 2005, eq. 6).
    Every gamma and digamma value is taken in one vectorised call: at CDNOW's size the
    cost of a fit is the number of numpy calls, not the arithmetic.
    """
    r, alpha, a, b = np.exp(log_params)
    ux = data.unique_x
    k = data.n_unique
    args = np.concatenate((r + ux, b + ux, a + b + ux, b + data.unique_x_minus_1, (r, a, b, a + b, a + 1.0)))
    lg = special.gammaln(args)
    dg = special.digamma(args)
    lg_rx, lg_bx, lg_abx, lg_bx1 = lg[:k], lg[k : 2 * k], lg[2 * k : 3 * k], lg[3 * k : 4 * k]
    dg_rx, dg_bx, dg_abx, dg_bx1 = dg[:k], dg[k : 2 * k], dg[2 * k : 3 * k], dg[3 * k : 4 * k]
    lg_r, lg_a, lg_b, lg_ab, lg_a1 = lg[4 * k :]
    dg_r, dg_a, dg_b, dg_ab, dg_a1 = dg[4 * k :]
    log_alpha = np.log(alpha)
    beta_ab = lg_a + lg_b - lg_ab
    # Terms that depend on x only (B2 is unused for x = 0: no repeat customer points to it).
    A = lg_rx - lg_r + r * log_alpha
    B1 = lg_a + lg_bx - lg_abx - beta_ab
    B2 = lg_a1 + lg_bx1 - lg_abx - beta_ab
    dB1_da = dg_ab - dg_abx
    dB1_db = dg_bx - dg_abx - dg_b + dg_ab
    dB2_da = dg_a1 - dg_abx - dg_a + dg_ab
    dB2_db = dg_bx1 - dg_abx - dg_b + dg_ab

    shifted = alpha + data.times
    logs = np.log(shifted)
    inverse = 1.0 / shifted
    at_end, at_last, single = data.slices
    log_aT, log_atx, log_single = logs[at_end], logs[at_last], logs[single]

    rx = r + data.x_repeat
    i = data.index_repeat
    L1 = B1[i] - rx * log_aT
    L2 = B2[i] - rx * log_atx
    # ln(e^{L1} + e^{L2}) = L1 + softplus(L2 − L1); np.logaddexp is ~50× slower than this.
    gap = L2 - L1
    m = L1 + np.maximum(gap, 0.0) + np.log1p(np.exp(-np.abs(gap)))
    cw = data.weight_repeat
    w = cw * special.expit(gap)  # weight × posterior P(dropped out after the last purchase)
    w1 = cw - w

    ws = data.weight_single
    sum_log_single = float(ws @ log_single)
    b1_zero = float(B1[data.zero_index].sum()) if data.n_single else 0.0
    ll = float(data.counts @ A) + float(cw @ m) + data.n_single * b1_zero - r * sum_log_single

    W = np.bincount(i, weights=w, minlength=k)
    d_r = float(data.counts @ dg_rx) - data.total_count * (dg_r - log_alpha) - sum_log_single - float(
        w1 @ log_aT + w @ log_atx
    )
    d_alpha = (
        data.total_count * r / alpha
        - r * float(ws @ inverse[single])
        - float(rx @ (w1 * inverse[at_end] + w * inverse[at_last]))
    )
    # Σ (1−w)·g1(x) + w·g2(x) = Σ_x count·g1 + W·(g2 − g1).
    d_a = float(data.counts @ dB1_da + W @ (dB2_da - dB1_da))
    d_b = float(data.counts @ dB1_db + W @ (dB2_db - dB1_db))
    if not np.isfinite(ll):
        return np.inf, np.zeros(4)
    return -ll, -np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])


class BetaGeo(_FittedCheck):
    """BG/NBD: Poisson purchasing with gamma-distributed rates; after each purchase a
    customer drops out with a beta-distributed probability p (Fader, Hardie & Lee 2005).

    Chosen over Pareto/NBD as the default because its likelihood needs no hypergeometric
    function, so it fits a million customers in seconds with the same forecasts.
    """

    _param_names = ("r", "alpha", "a", "b")

    def __init__(self, *, tol: float = 1e-12, max_iter: int = 1000) -> None:
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike) -> BetaGeo:
        """Maximum-likelihood fit on (x, t_x, T) per customer; returns self."""
        x, t_x, t_cal = _broadcast_customers(frequency, recency, T)
        scale = _time_scale(t_cal)
        scaled = _BetaGeoData(x, t_x * scale, t_cal * scale)
        log_params, _, ok, iterations = _fit_log_params(
            lambda p: _bgnbd_negative_ll(p, scaled),
            np.zeros(4),
            analytic_gradient=True,
            tol=self.tol,
            max_iter=self.max_iter,
        )
        r, alpha_scaled, a, b = np.exp(log_params)
        self.r_, self.alpha_, self.a_, self.b_ = float(r), float(alpha_scaled / scale), float(a), float(b)
        # Each purchase time is a density in time, so rescaling time by c shifts ℓ by x·ln c.
        scaled_ll = -_bgnbd_negative_ll(log_params, scaled)[0]
        self.log_likelihood_ = float(scaled_ll + scaled.total_x * np.log(scale))
        self.converged_ = ok
        self.n_iter_ = iterations
        self.n_customers_ = len(x)
        return self

    def log_likelihood(self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike) -> float:
        """Total log-likelihood of other data under the fitted parameters."""
        params = np.log(self._require_fit())
        x, t_x, t_cal = _broadcast_customers(frequency, recency, T)
        return -_bgnbd_negative_ll(params, _BetaGeoData(x, t_x, t_cal))[0]

    def p_alive(self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike) -> FloatArray:
        """P(still active at T | x, t_x, T) — FHL 2005 eq. (11); 1 for customers with x = 0."""
        r, alpha, a, b = self._require_fit()
        x, t_x, t_cal = _broadcast_customers(frequency, recency, T)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = (
                np.log(a)
                - np.log(np.where(x > 0, b + x - 1, 1.0))
                + (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_x))
            )
        return np.where(x > 0, special.expit(-log_odds), 1.0)

    def expected_purchases(
        self, t: npt.ArrayLike, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> FloatArray:
        """E[purchases in (T, T+t] | x, t_x, T] — FHL 2005 eq. (10); t scalar or per customer."""
        self._require_fit()
        horizon = _positive_horizon(t)
        x, t_x, t_cal = _broadcast_customers(frequency, recency, T)
        if horizon.ndim == 0:
            return self._expected_purchases_grid(horizon[None], x, t_x, t_cal)[:, 0]
        return self._unconditional_part(horizon, x, t_cal) * self.p_alive(x, t_x, t_cal)

    def _unconditional_part(self, horizon: FloatArray, x: FloatArray, T: FloatArray) -> FloatArray:
        """E[purchases in (T, T+t]] for a customer known to be alive at T, given x."""
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        rx = r + x
        z = horizon / (alpha + T + horizon)
        log_ratio = rx * (np.log(alpha + T) - np.log(alpha + T + horizon))
        hyper = special.hyp2f1(rx, b + x, a + b + x - 1, z)
        return (a + b + x - 1) / (a - 1) * (1.0 - np.exp(log_ratio) * hyper)

    def _expected_purchases_grid(
        self, horizons: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> FloatArray:
        """(customers × horizons) expectations."""
        curves, inverse, alive = self._purchase_curves(horizons, x, t_x, T)
        return curves[inverse] * alive[:, None]

    def _purchase_curves(
        self, horizons: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> tuple[FloatArray, npt.NDArray[np.intp], FloatArray]:
        """Expectations in factored form: curves[inverse] · P(alive) per customer. The
        hypergeometric term depends on (x, T) only, which customers of one cohort share,
        so it is computed once per distinct pair."""
        ux, uT, inverse = _distinct_pairs(x, T)
        curves = np.column_stack([self._unconditional_part(h, ux, uT) for h in horizons])
        return curves, inverse, self.p_alive(x, t_x, T)

    def expected_purchases_population(self, t: npt.ArrayLike) -> FloatArray:
        """E[X(t)] for a new customer over a period of length t — FHL 2005 eq. (9)."""
        r, alpha, a, b = self._require_fit()
        horizon = _positive_horizon(t)
        hyper = special.hyp2f1(r, b, a + b - 1, horizon / (alpha + horizon))
        return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + horizon)) ** r * hyper)

    def probability_of_purchases(self, t: npt.ArrayLike, n: npt.ArrayLike) -> FloatArray:
        """P(X(t) = n) for a new customer — FHL 2005 eq. (8); t and n broadcast."""
        r, alpha, a, b = self._require_fit()
        horizon = _positive_horizon(t)
        count = np.asarray(n, dtype=np.float64)
        if np.any(count < 0) or np.any(count != np.floor(count)):
            raise ValueError("n must hold non-negative whole numbers")
        horizon, count = np.broadcast_arrays(horizon, count)
        p = alpha / (alpha + horizon)
        beta_ab = special.betaln(a, b)
        first = np.exp(special.betaln(a, b + count) - beta_ab) * stats.nbinom.pmf(count, r, p)
        safe = np.where(count > 0, b + count - 1, 1.0)
        second = np.exp(special.betaln(a + 1, safe) - beta_ab) * stats.nbinom.sf(count - 1, r, p)
        return first + np.where(count > 0, second, 0.0)


# --------------------------------------------------------------------------- Pareto/NBD


def _pnbd_log_a0(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """ln A_0 (Fader & Hardie 2005 note, eq. 21), as a log-difference so it never goes negative."""
    rsx = r + s + x
    if alpha >= beta:
        big, second_arg, gap = alpha, s + 1.0, alpha - beta
    else:
        big, second_arg, gap = beta, r + x, beta - alpha
    with np.errstate(divide="ignore", invalid="ignore"):
        at_last = np.log(special.hyp2f1(rsx, second_arg, rsx + 1.0, gap / (big + t_x))) - rsx * np.log(
            big + t_x
        )
        at_end = np.log(special.hyp2f1(rsx, second_arg, rsx + 1.0, gap / (big + T))) - rsx * np.log(big + T)
        # A_0 = e^{at_last} − e^{at_end} ≥ 0, equal to 0 when t_x = T.
        return at_last + np.log(-np.expm1(np.minimum(at_end - at_last, 0.0)))


def _pnbd_log_likelihood(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    r, alpha, s, beta = params
    with np.errstate(divide="ignore", invalid="ignore"):
        head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive_to_end = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        died = np.log(s) - np.log(r + s + x) + _pnbd_log_a0(r, alpha, s, beta, x, t_x, T)
        return head + np.logaddexp(alive_to_end, died)


class ParetoNBD(_FittedCheck):
    """Pareto/NBD: Poisson purchasing (gamma rates) while alive, exponential lifetimes with
    gamma-distributed dropout rates (Schmittlein, Morrison & Colombo 1987)."""

    _param_names = ("r", "alpha", "s", "beta")

    def __init__(self, *, tol: float = 1e-13, max_iter: int = 2000) -> None:
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike) -> ParetoNBD:
        """Maximum-likelihood fit on (x, t_x, T) per customer; returns self."""
        x, t_x, t_cal = _broadcast_customers(frequency, recency, T)
        scale = _time_scale(t_cal)
        xs, ts, Ts = x, t_x * scale, t_cal * scale

        def negative(log_params: FloatArray) -> float:
            value = -float(np.sum(_pnbd_log_likelihood(np.exp(log_params), xs, ts, Ts)))
            return value if np.isfinite(value) else np.inf

        log_params, _, ok, iterations = _fit_log_params(
            negative, np.zeros(4), analytic_gradient=False, tol=self.tol, max_iter=self.max_iter
        )
        r, alpha_s, s, beta_s = np.exp(log_params)
        self.r_, self.alpha_ = float(r), float(alpha_s / scale)
        self.s_, self.beta_ = float(s), float(beta_s / scale)
        self.log_likelihood_ = float(
            np.sum(_pnbd_log_likelihood(np.array([self.r_, self.alpha_, self.s_, self.beta_]), x, t_x, t_cal))
        )
        self.converged_ = ok
        self.n_iter_ = iterations
        self.n_customers_ = len(x)
        return self

    def log_likelihood(self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike) -> float:
        params = np.array(self._require_fit())
        x, t_x, t_cal = _broadcast_customers(frequency, recency, T)
        return float(np.sum(_pnbd_log_likelihood(params, x, t_x, t_cal)))

    def p_alive(self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike) -> FloatArray:
        """P(alive at T | x, t_x, T) — Fader & Hardie 2005 note, eq. (18)."""
        r, alpha, s, beta = self._require_fit()
        x, t_x, t_cal = _broadcast_customers(frequency, recency, T)
        log_odds = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + t_cal)
            + s * np.log(beta + t_cal)
            + _pnbd_log_a0(r, alpha, s, beta, x, t_x, t_cal)
        )
        return special.expit(-log_odds)

    def expected_purchases(
        self, t: npt.ArrayLike, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> FloatArray:
        """E[purchases in (T, T+t] | x, t_x, T] — Fader & Hardie 2005 note, eq. (22)."""
        self._require_fit()
        horizon = _positive_horizon(t)
        x, t_x, t_cal = _broadcast_customers(frequency, recency, T)
        return self._unconditional_part(horizon, x, t_cal) * self.p_alive(x, t_x, t_cal)

    def _unconditional_part(self, horizon: FloatArray, x: FloatArray, T: FloatArray) -> FloatArray:
        r, alpha, s, beta = self.r_, self.alpha_, self.s_, self.beta_
        base = (r + x) * (beta + T) / (alpha + T)
        log_ratio = np.log(beta + T) - np.log(beta + T + horizon)
        if abs(s - 1.0) < 1e-8:
            return base * -log_ratio
        return base * -np.expm1((s - 1.0) * log_ratio) / (s - 1.0)

    def _purchase_curves(
        self, horizons: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> tuple[FloatArray, npt.NDArray[np.intp], FloatArray]:
        curves = np.column_stack([self._unconditional_part(h, x, T) for h in horizons])
        return curves, np.arange(len(x)), self.p_alive(x, t_x, T)

    def expected_purchases_population(self, t: npt.ArrayLike) -> FloatArray:
        """E[X(t)] — Schmittlein et al. 1987; Fader & Hardie 2005 note, eq. (17)."""
        r, alpha, s, beta = self._require_fit()
        horizon = _positive_horizon(t)
        log_ratio = np.log(beta) - np.log(beta + horizon)
        if abs(s - 1.0) < 1e-8:
            return r * beta / alpha * -log_ratio
        return r * beta / (alpha * (s - 1.0)) * -np.expm1((s - 1.0) * log_ratio)

    def probability_of_purchases(self, t: npt.ArrayLike, n: npt.ArrayLike) -> FloatArray:
        """P(X(t) = n) for a new customer — Fader & Hardie (2006), "Deriving an expression
        for P(X(t) = x) under the Pareto/NBD model"; t and n broadcast."""
        r, alpha, s, beta = self._require_fit()
        horizon = _positive_horizon(t)
        count = np.asarray(n, dtype=np.float64)
        if np.any(count < 0) or np.any(count != np.floor(count)):
            raise ValueError("n must hold non-negative whole numbers")
        horizon, count = np.broadcast_arrays(horizon, count)
        result = np.empty(horizon.shape, dtype=np.float64)
        for value in np.unique(count):
            mask = count == value
            result[mask] = self._pmf(horizon[mask], float(value), r, alpha, s, beta)
        return result

    @staticmethod
    def _pmf(t: FloatArray, x: float, r: float, alpha: float, s: float, beta: float) -> FloatArray:
        alive_all_along = (
            stats.nbinom.pmf(x, r, alpha / (alpha + t)) * np.exp(s * (np.log(beta) - np.log(beta + t)))
        )
        if alpha >= beta:
            big, second_arg, gap = alpha, s + 1.0, alpha - beta
        else:
            big, second_arg, gap = beta, r + x, beta - alpha
        c = r + s + x + 1.0
        log_b1 = np.log(special.hyp2f1(r + s, second_arg, c, gap / big)) - (r + s) * np.log(big)
        total = np.zeros_like(t)
        for i in range(int(x) + 1):
            log_b2 = (
                np.log(special.hyp2f1(r + s + i, second_arg, c, gap / (big + t)))
                - (r + s + i) * np.log(big + t)
            )
            log_coefficient = special.gammaln(r + s + i) - special.gammaln(r + s) - special.gammaln(i + 1.0)
            with np.errstate(divide="ignore"):
                total += np.exp(log_coefficient + i * np.log(t) + log_b2 - log_b1)
        log_front = (
            r * np.log(alpha) + s * np.log(beta) + special.betaln(r + x, s + 1.0) - special.betaln(r, s) + log_b1
        )
        return alive_all_along + np.exp(log_front) * (1.0 - total)


# --------------------------------------------------------------------------- Gamma-Gamma


class _SpendData:
    """Repeat buyers grouped by x: the gamma-function terms depend on x alone."""

    def __init__(self, x: FloatArray, m: FloatArray) -> None:
        self.unique_x, index, self.counts = _group_counts(x)
        self.log_unique_x = np.log(self.unique_x)
        self.sum_log_m = np.bincount(index, weights=np.log(m), minlength=len(self.unique_x))
        self.x = x
        self.xm = x * m
        self.n = float(len(x))


def _gamma_gamma_negative_ll(log_params: FloatArray, data: _SpendData) -> tuple[float, FloatArray]:
    """Negative Gamma-Gamma log-likelihood of average spends m over x transactions, and gradient.

    f(m | p, q, γ, x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q x^{px} m^{px−1} / (γ + x m)^{px+q}
    (Fader & Hardie 2013, eq. 4). Per customer only ln(γ + x m) must be recomputed.
    """
    p, q, gamma = np.exp(log_params)
    ux, cnt = data.unique_x, data.counts
    pux = p * ux
    k = len(ux)
    args = np.concatenate((pux + q, pux, (q,)))
    lg = special.gammaln(args)
    dg = special.digamma(args)
    log_gamma = np.log(gamma)
    shifted = gamma + data.xm
    logs = np.log(shifted)
    inverse = 1.0 / shifted
    x_logs = float(data.x @ logs)
    sum_logs = float(logs.sum())
    ll = (
        float(cnt @ (lg[:k] - lg[k : 2 * k] + pux * data.log_unique_x))
        + data.n * (q * log_gamma - lg[-1])
        + float((pux - 1.0) @ data.sum_log_m)
        - p * x_logs
        - q * sum_logs
    )
    d_p = float((cnt * ux) @ (dg[:k] - dg[k : 2 * k] + data.log_unique_x) + ux @ data.sum_log_m) - x_logs
    d_q = float(cnt @ dg[:k]) - data.n * (dg[-1] - log_gamma) - sum_logs
    d_gamma = data.n * q / gamma - p * float(data.x @ inverse) - q * float(inverse.sum())
    if not np.isfinite(ll):
        return np.inf, np.zeros(3)
    return -ll, -np.array([d_p * p, d_q * q, d_gamma * gamma])


class GammaGamma(_FittedCheck):
    """Gamma-Gamma spend model: a customer's transaction values are gamma(p, ν) with
    ν ~ gamma(q, γ) across customers, independent of the purchase process (FHL 2005, JMR).

    It shrinks a customer's observed average spend towards the population mean, more
    strongly the fewer purchases it rests on.
    """

    _param_names = ("p", "q", "gamma")

    def __init__(self, *, tol: float = 1e-12, max_iter: int = 1000) -> None:
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _check(frequency: npt.ArrayLike, monetary_value: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        x = as_vector(frequency, "frequency")
        m = as_vector(monetary_value, "monetary_value")
        same_length(frequency=x, monetary_value=m)
        non_negative(x, "frequency")
        whole_numbers(x, "frequency")
        non_negative(m, "monetary_value")
        if np.any((x > 0) & (m <= 0)):
            raise ValueError("monetary_value must be positive for customers with repeat purchases")
        return x, m

    def fit(self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike) -> GammaGamma:
        """Fit on the repeat buyers (frequency > 0) — the only ones with an average repeat
        spend; customers with frequency 0 are ignored. Returns self."""
        x, m = self._check(frequency, monetary_value)
        repeat = x > 0
        if not np.any(repeat):
            raise ValueError("GammaGamma needs at least one customer with frequency > 0")
        x, m = x[repeat], m[repeat]
        scale = 1.0 / float(np.mean(m))  # spend in units of its mean: start (1, 1, 1) is close
        scaled = _SpendData(x, m * scale)
        log_params, _, ok, iterations = _fit_log_params(
            lambda p: _gamma_gamma_negative_ll(p, scaled),
            np.zeros(3),
            analytic_gradient=True,
            tol=self.tol,
            max_iter=self.max_iter,
        )
        p, q, gamma_scaled = np.exp(log_params)
        self.p_, self.q_, self.gamma_ = float(p), float(q), float(gamma_scaled / scale)
        # m is a density in money: rescaling spend by c shifts each customer's ℓ by ln c.
        self.log_likelihood_ = float(-_gamma_gamma_negative_ll(log_params, scaled)[0] + len(x) * np.log(scale))
        self.converged_ = ok
        self.n_iter_ = iterations
        self.n_customers_ = len(x)
        return self

    def conditional_expected_spend(self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike) -> FloatArray:
        """E[spend per transaction | x, m̄] = (p(γ + x m̄)) / (px + q − 1); the population
        mean pγ/(q − 1) for customers without repeat purchases."""
        p, q, gamma = self._require_fit()
        x, m = self._check(frequency, monetary_value)
        m = np.where(x > 0, m, 0.0)
        return p * (gamma + x * m) / (p * x + q - 1.0)


# --------------------------------------------------------------------------- CLV


def customer_lifetime_value(
    transactions_model: BetaGeo | ParetoNBD,
    spend_model: GammaGamma,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
    periods: int = 12,
    discount_rate: float = 0.01,
    *,
    period_length: float = 1.0,
    margin: float = 1.0,
    per_period: bool = False,
) -> FloatArray:
    """Discounted expected value of each customer's next ``periods`` periods.

    Period i (1-based) is worth (E[purchases by i] − E[purchases by i−1]) × expected spend
    × margin / (1 + discount_rate)^i — the discrete approximation of FHL 2005 (JMR) used by
    practitioners. ``period_length`` is one period in the data's time unit (e.g. 4.35 weeks
    for a month when the models were fitted in weeks); ``discount_rate`` is per period.
    Returns an array of totals, or an (n_customers, periods) array when ``per_period``.
    """
    if int(periods) != periods or periods < 1:
        raise ValueError("periods must be a positive whole number")
    if not np.isfinite(discount_rate) or discount_rate <= -1:
        raise ValueError("discount_rate must be a finite number greater than -1")
    if not np.isfinite(period_length) or period_length <= 0:
        raise ValueError("period_length must be positive")
    x, t_x, t_cal = _broadcast_customers(frequency, recency, T)
    spend = spend_model.conditional_expected_spend(x, monetary_value) * margin
    transactions_model._require_fit()
    horizons = period_length * np.arange(1, periods + 1, dtype=np.float64)
    curves, inverse, alive = transactions_model._purchase_curves(horizons, x, t_x, t_cal)
    discount = (1.0 + discount_rate) ** -np.arange(1, periods + 1, dtype=np.float64)
    if per_period:
        purchases = np.diff(curves[inverse] * alive[:, None], axis=1, prepend=0.0)
        return purchases * spend[:, None] * discount[None, :]
    # Σ_i (C_i − C_{i−1}) d_i = Σ_i C_i (d_i − d_{i+1}): one matrix-vector product on the
    # distinct curves instead of a customers × periods array.
    weights = discount - np.append(discount[1:], 0.0)
    return (curves @ weights)[inverse] * alive * spend


# --------------------------------------------------------------------------- summaries


class RFMSummary(NamedTuple):
    """Per-customer summary in Fader–Hardie form, customers in sorted id order."""

    customer_ids: np.ndarray
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray


_UNIT_DAYS = {"D": 1.0, "W": 7.0}


def _to_days(values: npt.ArrayLike, name: str) -> npt.NDArray[np.int64]:
    try:
        days = np.asarray(values, dtype="datetime64[D]")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be dates (datetime64, date or ISO strings): {exc}") from None
    if np.any(np.isnat(days)):
        raise ValueError(f"{name} contains missing dates")
    return days.astype(np.int64)


def summary_from_transactions(
    customer_ids: npt.ArrayLike,
    dates: npt.ArrayLike,
    amounts: npt.ArrayLike,
    observation_end: object,
    freq: str | float = "W",
) -> RFMSummary:
    """(x, t_x, T, m̄) per customer from a transaction log, as Fader & Hardie define them.

    Purchases on the same day are merged into one transaction (their amounts summed);
    transactions after ``observation_end`` are ignored and so are customers whose first
    purchase comes after it. ``frequency`` counts repeat transaction days, ``recency`` is
    last − first purchase, ``T`` is observation_end − first purchase, both in units of
    ``freq`` ("D" days, "W" weeks, or a number of days), and ``monetary_value`` is the mean
    value of the repeat transactions (0 without repeats), the input of Gamma-Gamma.
    """
    unit = _UNIT_DAYS.get(freq) if isinstance(freq, str) else float(freq)
    if unit is None or not np.isfinite(unit) or unit <= 0:
        raise ValueError(f"freq must be 'D', 'W' or a positive number of days, got {freq!r}")
    ids = np.asarray(customer_ids)
    if ids.ndim != 1:
        raise ValueError("customer_ids must be one-dimensional")
    day = _to_days(dates, "dates")
    value = as_vector(amounts, "amounts", allow_empty=True)
    same_length(customer_ids=ids, dates=day, amounts=value)
    if len(ids) == 0:
        raise ValueError("no transactions given")
    end = int(_to_days([observation_end], "observation_end")[0])
    keep = day <= end
    ids, day, value = ids[keep], day[keep], value[keep]
    if len(ids) == 0:
        raise ValueError("no transactions on or before observation_end")

    customer, customer_index = np.unique(ids, return_inverse=True)
    # One row per (customer, day): same-day purchases are one transaction.
    order = np.lexsort((day, customer_index))
    c, d, v = customer_index[order], day[order], value[order]
    new_row = np.ones(len(c), dtype=bool)
    new_row[1:] = (c[1:] != c[:-1]) | (d[1:] != d[:-1])
    starts = np.flatnonzero(new_row)
    c, d = c[starts], d[starts]
    v = np.add.reduceat(v, starts)

    n = len(customer)
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, c, d)
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, c, d)
    days_per_customer = np.bincount(c, minlength=n).astype(np.float64)
    is_first = d == first[c]
    repeat_total = np.bincount(c, weights=np.where(is_first, 0.0, v), minlength=n)
    frequency = days_per_customer - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_total / frequency, 0.0)
    return RFMSummary(
        customer_ids=customer,
        frequency=frequency,
        recency=(last - first) / unit,
        T=(end - first) / unit,
        monetary_value=monetary,
    )
