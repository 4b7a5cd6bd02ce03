"""The arithmetic of a scoring run: bulk reads into numpy, then guanxi.analytics.

Reads are aggregated in SQL and fetched as plain columns (no model instances, no query per
customer). Money per customer (revenue, margin, expenses) is summed in SQL as Decimal; the
order-level columns feed only the models (CLV, relationship stage), which work in floats.

Definitions Guanxi chooses where the seeds are silent (DOMAIN.md §10):
- profit to date = Σ (order total − order cost) − Σ sales expenses (the cost to serve);
- grades: 80/20 on that profit (key share 0.8, normal/small boundary 0.95), with customers who
  have a receivable more than `bad_debt_days` past due graded bad (劣质客户);
- RFM: R = days since the last order, F = number of orders, M = revenue to date;
- value matrix: orders × average order value; behaviour matrix: days since last order × orders;
- relationship stage: revenue per `stage_period_days` period, `stage_window` periods compared
  with the `stage_window` before;
- CLV: BG/NBD + Gamma-Gamma fitted in days on orders without one-off products (Product.is_one_off
  lines are subtracted and days left with nothing are dropped), 12 months of 30.4375 days
  discounted at 1 % a month, times the overall gross-margin rate, so CLV adds to the margin to
  date (customer equity).
"""

import dataclasses
import datetime
from decimal import Decimal

import numpy as np
from django.db import connection
from django.db.models import BigIntegerField, Case, F, Func, IntegerField, QuerySet, Sum, Value, When

from guanxi.analytics import clv, grading, rfm
from guanxi.sales.models import Order, OrderLine, Product, SalesExpense
from guanxi.sales.selectors import BILLED_STATUSES

DEFAULT_PARAMETERS = {
    "key_share": 0.8,
    "normal_share": 0.95,
    "bad_debt_days": 180,
    "rfm_bins": 5,
    "stage_period_days": 91,
    "stage_window": 2,
    "stage_max_periods": 40,
    "clv_months": 12,
    "month_days": 30.4375,
    "monthly_discount_rate": 0.01,
    "expected_purchases_days": 90,
}
CENT = Decimal("0.01")


class EpochDay(Func):
    """A date as whole days since 1970-01-01, computed by the database (cheaper than date objects)."""

    output_field = BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s - DATE '1970-01-01')", **extra)


class Cents(Func):
    """Money as whole cents: integers add up exactly, as Decimal would, at numpy speed."""

    template = "CAST(ROUND(%(expressions)s * 100) AS BIGINT)"
    output_field = BigIntegerField()


def fetch_int_columns(queryset: QuerySet, width: int) -> np.ndarray:
    """The rows of a values_list queryset of integers as an (n, width) int64 array, through the
    raw cursor: Django's per-value converters cost more than the query on a million rows."""
    sql, params = queryset.query.sql_with_params()
    chunks = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(50_000):
            chunks.append(np.array(rows, dtype=np.int64))
    return np.concatenate(chunks) if chunks else np.zeros((0, width), dtype=np.int64)


def day_number(value: datetime.date) -> int:
    return (value - EPOCH).days


def from_day_number(value: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=int(value))


def from_cents(value: int) -> Decimal:
    return (Decimal(int(value)) / 100).quantize(CENT)


EPOCH = datetime.date(1970, 1, 1)


@dataclasses.dataclass
class OrderLog:
    """One row per billed order up to the scoring date (int64 columns), and the one-off part of orders."""

    customer_ids: np.ndarray
    days: np.ndarray
    total_cents: np.ndarray
    margin_cents: np.ndarray
    bad_debt: np.ndarray
    one_off_customer_ids: np.ndarray
    one_off_days: np.ndarray
    one_off_cents: np.ndarray


def billed_orders(as_of: datetime.date) -> QuerySet:
    return Order.objects.filter(status__in=BILLED_STATUSES, order_date__lte=as_of).order_by()


def load_order_log(as_of: datetime.date, *, bad_debt_days: int) -> OrderLog:
    """One scan of the orders; the one-off lines are found from the (few) one-off products' index."""
    cutoff = as_of - datetime.timedelta(days=bad_debt_days)
    owing = Case(When(due_date__lt=cutoff, total__gt=F("amount_paid"), then=Value(1)), default=Value(0),
                 output_field=IntegerField())
    orders = fetch_int_columns(
        billed_orders(as_of).annotate(d=EpochDay("order_date"), t=Cents("total"), m=Cents(F("total") - F("cost_total")), o=owing)
        .values_list("customer_id", "d", "t", "m", "o"),
        5,
    )
    one_off_products = list(Product.objects.filter(is_one_off=True).values_list("pk", flat=True))
    one_off = fetch_int_columns(
        OrderLine.objects.filter(product_id__in=one_off_products, order__status__in=BILLED_STATUSES,
                                 order__order_date__lte=as_of)
        .order_by().annotate(d=EpochDay("order__order_date"), t=Cents("line_total"))
        .values_list("order__customer_id", "d", "t"),
        3,
    ) if one_off_products else np.zeros((0, 3), dtype=np.int64)
    return OrderLog(
        customer_ids=orders[:, 0], days=orders[:, 1], total_cents=orders[:, 2], margin_cents=orders[:, 3],
        bad_debt=orders[:, 4].astype(bool),
        one_off_customer_ids=one_off[:, 0], one_off_days=one_off[:, 1], one_off_cents=one_off[:, 2],
    )


@dataclasses.dataclass
class CustomerTotals:
    """Per-customer figures to date, in sorted customer-id order; money in whole cents."""

    customer_ids: np.ndarray
    orders: np.ndarray
    revenue_cents: np.ndarray
    margin_cents: np.ndarray
    spend_12m_cents: np.ndarray
    expense_cents: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    bad_debt: np.ndarray

    @property
    def profit_cents(self) -> np.ndarray:
        return self.margin_cents - self.expense_cents


def _sum_int(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, index, values)
    return out


def customer_totals(log: OrderLog, as_of: datetime.date) -> CustomerTotals:
    """Orders, revenue, margin, 12-month spend, first/last order and bad debt per customer, plus
    sales expenses summed by the database."""
    ids, index = np.unique(log.customer_ids, return_inverse=True)
    n = len(ids)
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, index, log.days)
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, index, log.days)
    recent = log.days > day_number(as_of) - 365
    expenses = np.zeros(n, dtype=np.int64)
    if n:
        spent = fetch_int_columns(
            SalesExpense.objects.filter(spent_on__lte=as_of).order_by().values("customer_id")
            .annotate(s=Cents(Sum("amount"))).values_list("customer_id", "s"), 2)
        if len(spent):
            at = np.searchsorted(ids, spent[:, 0])
            found = (at < n) & (ids[np.minimum(at, n - 1)] == spent[:, 0])
            expenses[at[found]] = spent[found, 1]
    return CustomerTotals(
        customer_ids=ids, orders=np.bincount(index, minlength=n).astype(np.int64),
        revenue_cents=_sum_int(index, log.total_cents, n), margin_cents=_sum_int(index, log.margin_cents, n),
        spend_12m_cents=_sum_int(index[recent], log.total_cents[recent], n), expense_cents=expenses,
        first_day=first, last_day=last, bad_debt=_sum_int(index, log.bad_debt.astype(np.int64), n) > 0,
    )


def repeatable_purchases(log: OrderLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, day, amount) per purchase day without one-off products; days left empty are dropped."""
    ids = np.concatenate([log.customer_ids, log.one_off_customer_ids])
    days = np.concatenate([log.days, log.one_off_days])
    amounts = np.concatenate([log.total_cents, -log.one_off_cents]).astype(np.float64) / 100
    if len(ids) == 0:
        return ids, days, amounts
    # One int64 key per (customer, day): a 1-D unique is an order of magnitude faster than axis=0.
    keys, inverse = np.unique((ids << 24) | (days - days.min()), return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=amounts, minlength=len(keys))
    keep = sums > 0.005
    return keys[keep] >> 24, (keys[keep] & ((1 << 24) - 1)) + days.min(), sums[keep]


@dataclasses.dataclass
class ClvResult:
    """Per customer of `customer_ids` (those with repeatable purchases)."""

    customer_ids: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary: np.ndarray
    p_alive: np.ndarray | None
    expected_purchases: np.ndarray | None
    clv: np.ndarray | None
    fitted: dict


def clv_scores(ids: np.ndarray, days: np.ndarray, amounts: np.ndarray, as_of: datetime.date, *,
               margin_rate: float, params: dict) -> ClvResult | None:
    """BG/NBD + Gamma-Gamma in days; models left out (None) when the data cannot support a fit."""
    if len(ids) == 0:
        return None
    summary = clv.summary_from_transactions(ids, days.astype("datetime64[D]"), amounts, np.datetime64(as_of, "D"), freq="D")
    # Customers whose first purchase is on the scoring day have no observation time yet.
    observed = summary.T > 0
    x, t_x, T, m = (a[observed] for a in (summary.frequency, summary.recency, summary.T, summary.monetary_value))
    result = ClvResult(summary.customer_ids[observed].astype(np.int64), x, t_x, T, m, None, None, None, {})
    if np.count_nonzero(x > 0) < 2:
        result.fitted = {"skipped": "fewer than two repeat buyers"}
        return result
    bg = clv.BetaGeo().fit(x, t_x, T)
    gg = clv.GammaGamma().fit(x, m)
    result.p_alive = bg.p_alive(x, t_x, T)
    result.expected_purchases = bg.expected_purchases(params["expected_purchases_days"], x, t_x, T)
    if gg.q_ > 1:  # the population mean spend p·γ/(q − 1) exists only for q > 1
        result.clv = clv.customer_lifetime_value(
            bg, gg, x, t_x, T, m, periods=params["clv_months"], discount_rate=params["monthly_discount_rate"],
            period_length=params["month_days"], margin=margin_rate,
        )
    result.fitted = {
        "bg_nbd": {"r": bg.r_, "alpha": bg.alpha_, "a": bg.a_, "b": bg.b_, "converged": bool(bg.converged_)},
        "gamma_gamma": {"p": gg.p_, "q": gg.q_, "gamma": gg.gamma_, "converged": bool(gg.converged_)},
        "margin_rate": margin_rate,
        "customers": int(len(x)),
    }
    return result


def stages(customer_ids: np.ndarray, log: OrderLog, as_of: datetime.date, params: dict) -> np.ndarray:
    """Relationship stage per customer from revenue per period, newest period last."""
    period, window = params["stage_period_days"], params["stage_window"]
    age = (day_number(as_of) - log.days) // period
    n_periods = int(min(max(2 * window, (age.max() + 1) if len(age) else 0), params["stage_max_periods"]))
    keep = age < n_periods
    rows = np.searchsorted(customer_ids, log.customer_ids[keep])
    history = np.zeros((len(customer_ids), n_periods))
    np.add.at(history, (rows, n_periods - 1 - age[keep]), np.maximum(log.total_cents[keep], 0) / 100)
    return grading.relationship_stage(history, window=window)


@dataclasses.dataclass
class Scores:
    """Every column of CustomerScore, one entry per customer in `totals.customer_ids` order."""

    totals: CustomerTotals
    rfm: rfm.RFMScores
    value_segment: np.ndarray
    behaviour_segment: np.ndarray
    grade: np.ndarray
    stage: np.ndarray
    spend_tier: np.ndarray
    clv_index: np.ndarray  # row in `clv` for each customer, −1 when it has none
    clv: ClvResult | None


def compute(totals: CustomerTotals, log: OrderLog, as_of: datetime.date, params: dict,
            tiers: list[tuple[str, Decimal]]) -> Scores:
    """All scores from the loaded columns; `tiers` are (key, minimum 12-month spend), highest first."""
    recency = (day_number(as_of) - totals.last_day).astype(np.float64)
    revenue = totals.revenue_cents / 100
    frequency = totals.orders.astype(np.float64)
    scores = rfm.rfm_scores(recency, frequency, revenue, bins=params["rfm_bins"])
    average = revenue / np.maximum(frequency, 1)
    value = rfm.value_matrix(frequency, average).segment
    behaviour = rfm.behaviour_matrix(recency, frequency).segment
    profit = totals.profit_cents / 100
    grade = grading.pareto_grades(profit, key_share=params["key_share"], normal_share=params["normal_share"],
                                  bad_debt=totals.bad_debt)
    stage = stages(totals.customer_ids, log, as_of, params)
    tier = np.full(len(totals.customer_ids), "", dtype="<U20")
    for key, minimum in reversed(tiers):  # lowest first, so higher tiers overwrite
        tier[totals.spend_12m_cents >= int(minimum * 100)] = key

    ids, days, amounts = repeatable_purchases(log)
    total_revenue = int(totals.revenue_cents.sum())
    margin_rate = int(totals.margin_cents.sum()) / total_revenue if total_revenue > 0 else 0.0
    result = clv_scores(ids, days, amounts, as_of, margin_rate=max(margin_rate, 0.0), params=params)
    clv_index = np.full(len(totals.customer_ids), -1, dtype=np.int64)
    if result is not None:
        clv_index[np.searchsorted(totals.customer_ids, result.customer_ids)] = np.arange(len(result.customer_ids))
    return Scores(totals, scores, value, behaviour, grade, stage, tier, clv_index, result)
