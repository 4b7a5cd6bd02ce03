"""The dashboard: KPIs and chart series for the signed-in user's scope, aggregated in SQL.

Everything starts from visible_customers / visible_related, so a rep sees their book and an
administrator the firm. Money stays Decimal (charts get it as text). Revenue per month sums
the indexed `order_date` DATE per day and folds the days into months in Python: TruncMonth on
a datetime costs seconds per million rows on SQLite (DESIGN.md pitfall 9), and so does
ExtractYear/ExtractMonth, which SQLite runs as a Python function per row. When the figures
take long to compute (a big scope), they are cached per user for a minute.
"""

import datetime
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count, DecimalField, ExpressionWrapper, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core.pagination import capped_count
from guanxi.core.visibility import visible_customers, visible_related
from guanxi.customers.models import LeadSource, State

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=20, decimal_places=2)
MONTHS = 12
CACHE_SECONDS = 60
SLOW_SECONDS = 0.25
# The state badges' colours (guanxi.css), so a slice reads like the badge in the customer list.
STATE_COLOURS = {State.NON: "#8a94a6", State.POTENTIAL: "#1d5fbf", State.TARGET: "#6d3fc0", State.CURRENT: "#1e7b4a", State.LOST: "#b42318"}  # below this, fresh figures are cheaper than a cache that lags behind edits


def _cents(value) -> Decimal:
    """SQLite sums come back as Decimal('400'); money shows two places."""
    return (value or ZERO).quantize(CENT)


def pipeline_sums(deals) -> dict[int, dict]:
    """Per stage id: count, total and weighted amount (Σ amount × probability ÷ 100, rounded once).

    The division by 100 happens here, on Decimals: SQLite stores 2477.00 as the integer 2477,
    and 2477 * 25 / 100 in SQL is integer division — 619, not 619.25.
    """
    points = ExpressionWrapper(F("amount") * F("probability"), output_field=MONEY)
    rows = deals.order_by().values("stage_id").annotate(n=Count("pk"), total=Sum("amount"), points=Sum(points))
    return {
        row["stage_id"]: {"n": row["n"], "total": _cents(row["total"]),
                          "weighted": (_cents(row["points"]) / 100).quantize(CENT, rounding=ROUND_HALF_UP)}
        for row in rows
    }


def customers_over_credit_limit(user: User):
    """Visible customers whose open receivables (billed orders − payments) exceed a granted credit limit."""
    from guanxi.sales.models import Order, Payment
    from guanxi.sales.selectors import BILLED_STATUSES

    billed = (Order.objects.filter(customer_id=OuterRef("pk"), status__in=BILLED_STATUSES).order_by()
              .values("customer_id").annotate(s=Sum("total")).values("s"))
    paid = Payment.objects.filter(customer_id=OuterRef("pk")).order_by().values("customer_id").annotate(s=Sum("amount")).values("s")
    return (
        visible_customers(user).filter(credit_limit__gt=0)
        .annotate(billed=Coalesce(Subquery(billed, output_field=MONEY), Value(ZERO), output_field=MONEY),
                  paid=Coalesce(Subquery(paid, output_field=MONEY), Value(ZERO), output_field=MONEY))
        .annotate(receivable=ExpressionWrapper(F("billed") - F("paid"), output_field=MONEY))
        .filter(receivable__gt=F("credit_limit"))
        .only("pk", "name", "credit_limit", "currency")
        .order_by("-receivable", "pk")
    )


def _month_start(day: datetime.date, back: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass
class DashboardFigures:
    customers_total: int
    by_state: dict[str, int]
    by_source: dict[str, int]
    new_this_month: int
    new_capped: bool
    revenue_this_month: Decimal
    revenue_last_month: Decimal
    revenue_by_month: list[tuple[datetime.date, Decimal]]
    pipeline_total: Decimal
    pipeline_weighted: Decimal
    pipeline_by_stage: list[tuple[int, Decimal, Decimal, int]]  # stage id, total, weighted, count
    overdue_tasks: int
    overdue_capped: bool
    over_limit: int
    over_limit_capped: bool


def dashboard_figures(user: User, *, today: datetime.date | None = None) -> DashboardFigures:
    """Every number on the dashboard in about a dozen aggregate queries, whatever the data size."""
    from guanxi.engagement.selectors import tasks_for
    from guanxi.sales.models import Opportunity, Order
    from guanxi.sales.selectors import BILLED_STATUSES

    today = today or timezone.localdate()
    customers = visible_customers(user).order_by()
    by_state = dict(customers.values_list("state").annotate(n=Count("pk")))
    by_source = dict(customers.values_list("source").annotate(n=Count("pk")))
    month_start = _month_start(today)
    new_from = timezone.make_aware(datetime.datetime.combine(month_start, datetime.time.min))
    new_this_month, new_capped = capped_count(customers.filter(created_at__gte=new_from))

    first_month = _month_start(today, MONTHS - 1)
    billed = visible_related(user, Order.objects.all()).filter(status__in=BILLED_STATUSES, order_date__gte=first_month,
                                                                 order_date__lte=today).order_by()
    # One row per day (at most ~366, grouped along the order_date index), folded into months
    # here: SQLite's year/month extraction is a Python function per row (2 s per 430k orders).
    monthly: dict[tuple[int, int], Decimal] = {}
    for day, total in billed.values("order_date").annotate(s=Sum("total")).values_list("order_date", "s"):
        key = (day.year, day.month)
        monthly[key] = monthly.get(key, ZERO) + _cents(total)
    revenue_by_month = []
    for back in range(MONTHS - 1, -1, -1):
        start = _month_start(today, back)
        revenue_by_month.append((start, monthly.get((start.year, start.month), ZERO)))
    previous = _month_start(today, 1)
    revenue_last_month = monthly.get((previous.year, previous.month), ZERO)

    open_deals = visible_related(user, Opportunity.objects.filter(closed_at__isnull=True))
    by_stage = [(stage_id, row["total"], row["weighted"], row["n"]) for stage_id, row in pipeline_sums(open_deals).items()]
    overdue, overdue_capped = capped_count(tasks_for(user, mine=True, due="overdue"))
    over_limit, over_limit_capped = capped_count(customers_over_credit_limit(user), 1000)
    total = sum(by_state.values())
    return DashboardFigures(
        customers_total=total, by_state=by_state, by_source=by_source,
        new_this_month=new_this_month, new_capped=new_capped,
        revenue_this_month=monthly.get((today.year, today.month), ZERO), revenue_last_month=revenue_last_month,
        revenue_by_month=revenue_by_month,
        pipeline_total=sum((t for _s, t, _w, _n in by_stage), ZERO),
        pipeline_weighted=sum((w for _s, _t, w, _n in by_stage), ZERO),
        pipeline_by_stage=by_stage,
        overdue_tasks=overdue, overdue_capped=overdue_capped, over_limit=over_limit, over_limit_capped=over_limit_capped,
    )


def cached_if_slow(key: str, compute):
    """`compute()`, kept in the default cache for a minute when it took long (big scopes only).

    Small scopes always see fresh figures; a firm-wide view may lag edits by up to a minute.
    """
    value = cache.get(key)
    if value is None:
        started = time.perf_counter()
        value = compute()
        if time.perf_counter() - started > SLOW_SECONDS:
            cache.set(key, value, CACHE_SECONDS)
    return value


def cached_dashboard_figures(user: User) -> DashboardFigures:
    today = timezone.localdate()
    return cached_if_slow(f"guanxi:dashboard:{user.pk}:{today.isoformat()}", lambda: dashboard_figures(user, today=today))


def _change(this: Decimal, last: Decimal) -> Decimal | None:
    if not last:
        return None
    return ((this - last) * 100 / last).quantize(Decimal("0.1"))


@login_required
def dashboard(request):
    """KPIs and four charts (data in json_script, drawn by charts.js, each with a table fallback)."""
    from guanxi.sales.selectors import pipeline_stages
    from guanxi.sales.views import stage_label

    figures = cached_dashboard_figures(request.user)
    stages = {s.pk: s for s in pipeline_stages()}
    revenue = [{"label": m.strftime("%Y-%m"), "value": str(v)} for m, v in figures.revenue_by_month]
    pipeline = [
        {"label": stage_label(stages[pk]) if pk in stages else "?", "value": str(total), "weighted": str(weighted), "count": n,
         "position": stages[pk].position if pk in stages else 0}
        for pk, total, weighted, n in figures.pipeline_by_stage
    ]
    pipeline.sort(key=lambda row: row["position"])
    by_state = [{"label": str(label), "value": figures.by_state.get(value, 0), "color": STATE_COLOURS.get(value)}
                for value, label in State.choices]
    sources = dict(LeadSource.choices)
    by_source = sorted(
        ({"label": str(sources.get(value, _("Unknown"))) if value else _("Unknown"), "value": n} for value, n in figures.by_source.items()),
        key=lambda row: -row["value"],
    )
    context = {
        "figures": figures,
        "revenue_change": _change(figures.revenue_this_month, figures.revenue_last_month),
        "current_customers": figures.by_state.get(State.CURRENT, 0),
        "charts": {
            "revenue": {"kind": "line", "series_name": _("Revenue"), "rows": revenue},
            "pipeline": {"kind": "bar", "series_name": _("Open amount"), "second_name": _("Weighted"), "rows": pipeline},
            "state": {"kind": "pie", "series_name": _("Customers"), "rows": by_state},
            "source": {"kind": "hbar", "series_name": _("Customers"), "rows": by_source},
        },
    }
    return render(request, "web/dashboard.html", context)
