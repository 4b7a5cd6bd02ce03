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
from django.db.models import Count, F, FloatField, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Cast

from guanxi.analytics import clv, grading, rfm
from guanxi.sales.models import Order, OrderLine, SalesExpense
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


def fetch_columns(queryset: QuerySet, chunk: int = 20_000) -> list[list]:
    """The rows of a values_list queryset as columns, through the raw cursor: Django's
    per-value converters cost more than the query on a million rows."""
    sql, params = queryset.query.sql_with_params()
    width = len(queryset.query.values_select) + len(queryset.query.annotation_select)
    columns: list[list] = [[] for _ in range(width)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            for column, values in zip(columns, zip(*rows, strict=True), strict=True):
                column.extend(values)
    return columns


def as_days(values: list) -> np.ndarray:
    """Dates (date objects from PostgreSQL, ISO strings from SQLite) as days since 1970-01-01."""
    if not values:
        return np.zeros(0, dtype=np.int64)
    return np.array([str(v) for v in values] if isinstance(values[0], str) else values, dtype="datetime64[D]").astype(np.int64)


def _day(value: datetime.date) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


@dataclasses.dataclass
class CustomerTotals:
    """Per-customer money to date, in sorted customer-id order."""

    customer_ids: np.ndarray
    orders: np.ndarray
    revenue: list[Decimal]
    margin: list[Decimal]
    spend_12m: list[Decimal]
    expenses: list[Decimal]
    first_day: np.ndarray
    last_day: np.ndarray
    bad_debt: np.ndarray

    @property
    def profit(self) -> list[Decimal]:
        return [m - e for m, e in zip(self.margin, self.expenses, strict=True)]


@dataclasses.dataclass
class OrderLog:
    """One row per billed order: customer, day number, total and the part that is one-off products."""

    customer_ids: np.ndarray
    days: np.ndarray
    totals: np.ndarray
    one_off_customer_ids: np.ndarray
    one_off_days: np.ndarray
    one_off_totals: np.ndarray


def billed_orders(as_of: datetime.date) -> QuerySet:
    return Order.objects.filter(status__in=BILLED_STATUSES, order_date__lte=as_of).order_by()


def load_totals(as_of: datetime.date, *, bad_debt_days: int) -> CustomerTotals:
    year_ago = as_of - datetime.timedelta(days=365)
    rows = (
        billed_orders(as_of).values("customer_id")
        .annotate(orders=Count("id"), revenue=Sum("total"), margin=Sum(F("total") - F("cost_total")),
                  spend_12m=Sum("total", filter=Q(order_date__gt=year_ago)),
                  first=Min("order_date"), last=Max("order_date"))
        .order_by("customer_id")
        .values_list("customer_id", "orders", "revenue", "margin", "spend_12m", "first", "last")
    )
    ids, orders, revenue, margin, spend, first, last = ([] for _ in range(7))
    for row in rows.iterator(chunk_size=10_000):
        ids.append(row[0])
        orders.append(row[1])
        revenue.append(row[2].quantize(CENT))
        margin.append(row[3].quantize(CENT))
        spend.append((row[4] or Decimal(0)).quantize(CENT))
        first.append(row[5])
        last.append(row[6])
    customer_ids = np.array(ids, dtype=np.int64)
    spent = dict(
        SalesExpense.objects.filter(spent_on__lte=as_of).order_by().values("customer_id")
        .annotate(s=Sum("amount")).values_list("customer_id", "s")
    )
    owing = set(
        billed_orders(as_of).filter(due_date__lt=as_of - datetime.timedelta(days=bad_debt_days), total__gt=F("amount_paid"))
        .values_list("customer_id", flat=True).distinct()
    )
    return CustomerTotals(
        customer_ids=customer_ids,
        orders=np.array(orders, dtype=np.int64),
        revenue=revenue, margin=margin, spend_12m=spend,
        expenses=[(spent.get(c) or Decimal(0)).quantize(CENT) for c in ids],
        first_day=as_days(first), last_day=as_days(last),
        bad_debt=np.array([c in owing for c in ids], dtype=bool),
    )


def load_order_log(as_of: datetime.date) -> OrderLog:
    ids, days, totals = fetch_columns(
        billed_orders(as_of).annotate(t=Cast("total", FloatField())).values_list("customer_id", "order_date", "t")
    )
    one_off = (
        OrderLine.objects.filter(product__is_one_off=True, order__status__in=BILLED_STATUSES, order__order_date__lte=as_of)
        .order_by().annotate(t=Cast("line_total", FloatField()))
        .values_list("order__customer_id", "order__order_date", "t")
    )
    o_ids, o_days, o_totals = fetch_columns(one_off)
    return OrderLog(
        customer_ids=np.array(ids, dtype=np.int64), days=as_days(days), totals=np.array(totals, dtype=np.float64),
        one_off_customer_ids=np.array(o_ids, dtype=np.int64), one_off_days=as_days(o_days),
        one_off_totals=np.array(o_totals, dtype=np.float64),
    )


def repeatable_purchases(log: OrderLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, day, amount) per purchase day without one-off products; days left empty are dropped."""
    ids = np.concatenate([log.customer_ids, log.one_off_customer_ids])
    days = np.concatenate([log.days, log.one_off_days])
    amounts = np.concatenate([log.totals, -log.one_off_totals])
    if len(ids) == 0:
        return ids, days, amounts
    pairs, inverse = np.unique(np.column_stack([ids, days]), axis=0, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=amounts, minlength=len(pairs))
    keep = sums > 0.005
    return pairs[keep, 0], pairs[keep, 1], sums[keep]


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
    x, t_x, T, m = summary.frequency, summary.recency, summary.T, summary.monetary_value
    result = ClvResult(summary.customer_ids.astype(np.int64), x, t_x, T, m, None, None, None, {})
    if np.count_nonzero(x > 0) < 2 or not np.any(T > 0):
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
    age = (_day(as_of) - log.days) // period
    n_periods = int(min(max(2 * window, (age.max() + 1) if len(age) else 0), params["stage_max_periods"]))
    keep = age < n_periods
    rows = np.searchsorted(customer_ids, log.customer_ids[keep])
    history = np.zeros((len(customer_ids), n_periods))
    np.add.at(history, (rows, n_periods - 1 - age[keep]), np.maximum(log.totals[keep], 0.0))
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
    spend_tier: list[str]
    clv_index: np.ndarray  # row in `clv` for each customer, −1 when it has none
    clv: ClvResult | None


def compute(totals: CustomerTotals, log: OrderLog, as_of: datetime.date, params: dict,
            tiers: list[tuple[str, Decimal]]) -> Scores:
    """All scores from the loaded columns; `tiers` are (key, minimum 12-month spend), highest first."""
    recency = (_day(as_of) - totals.last_day).astype(np.float64)
    revenue = np.array([float(v) for v in totals.revenue])
    frequency = totals.orders.astype(np.float64)
    scores = rfm.rfm_scores(recency, frequency, revenue, bins=params["rfm_bins"])
    average = revenue / np.maximum(frequency, 1)
    value = rfm.value_matrix(frequency, average).segment
    behaviour = rfm.behaviour_matrix(recency, frequency).segment
    profit = np.array([float(p) for p in totals.profit])
    grade = grading.pareto_grades(profit, key_share=params["key_share"], normal_share=params["normal_share"],
                                  bad_debt=totals.bad_debt)
    stage = stages(totals.customer_ids, log, as_of, params)
    tier = [next((key for key, minimum in tiers if spend >= minimum), "") for spend in totals.spend_12m]

    ids, days, amounts = repeatable_purchases(log)
    total_revenue = float(sum(totals.revenue))
    margin_rate = float(sum(totals.margin)) / total_revenue if total_revenue > 0 else 0.0
    result = clv_scores(ids, days, amounts, as_of, margin_rate=max(margin_rate, 0.0), params=params)
    clv_index = np.full(len(totals.customer_ids), -1, dtype=np.int64)
    if result is not None:
        clv_index[np.searchsorted(totals.customer_ids, result.customer_ids)] = np.arange(len(result.customer_ids))
    return Scores(totals, scores, value, behaviour, grade, stage, tier, clv_index, result)
