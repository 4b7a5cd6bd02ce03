"""Every read of the insights app; each starts from visible_customers(user) / visible_related."""

import collections
import dataclasses
import datetime
from decimal import Decimal

import numpy as np
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from scipy import sparse

from guanxi.accounts.models import Role, User
from guanxi.analytics.similarity import LookAlikes
from guanxi.core.visibility import sees_all_customers, visible_customers, visible_related
from guanxi.customers.models import Customer, PaymentTerms, State, UpgradePotential
from guanxi.insights.models import CustomerScore, GradeHistory, ScoringRun, ServicePolicy, SpendTier, Warning, WarningKind
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.sales.selectors import BILLED_STATUSES

ZERO = Decimal("0.00")


# --- Runs and scores -------------------------------------------------------------------------------

def current_run() -> ScoringRun | None:
    return ScoringRun.objects.filter(is_current=True).first()


def scoring_runs() -> QuerySet:
    return ScoringRun.objects.select_related("started_by")


def current_scores(user: User, *, grade: str | None = None, value_segment: str | None = None,
                   stage: str | None = None, owner: int | None = None, behaviour_segment: str | None = None,
                   recency_score: int | None = None, frequency_score: int | None = None, rfm_cell: int | None = None,
                   clv_min: Decimal | None = None, clv_max: Decimal | None = None) -> QuerySet:
    """The current run's scores of the customers `user` may see, highest CLV first. The CLV range is
    half-open, clv_min ≤ CLV < clv_max, as the insights histogram's buckets are."""
    scores = visible_related(user, CustomerScore.objects.filter(run__is_current=True))
    exact = {"grade": grade, "value_segment": value_segment, "stage": stage, "customer__owner_id": owner,
             "behaviour_segment": behaviour_segment, "recency_score": recency_score,
             "frequency_score": frequency_score, "rfm_cell": rfm_cell}
    scores = scores.filter(**{field: value for field, value in exact.items() if value not in (None, "")})
    if clv_min not in (None, ""):
        scores = scores.filter(clv__gte=clv_min)
    if clv_max not in (None, ""):
        scores = scores.filter(clv__lt=clv_max)
    return scores.select_related("customer").order_by("-clv", "customer_id")


def customer_scores(user: User, customer_id: int) -> QuerySet:
    """A visible customer's scores in the kept runs, newest first (Customer.DoesNotExist otherwise)."""
    customer = visible_customers(user).only("pk").get(pk=customer_id)
    return CustomerScore.objects.filter(customer=customer, run__status=ScoringRun.Status.DONE).select_related("run").order_by("-run__as_of", "-run_id")


def grade_history(user: User, customer_id: int) -> QuerySet:
    customer = visible_customers(user).only("pk").get(pk=customer_id)
    return GradeHistory.objects.filter(customer=customer, run__status=ScoringRun.Status.DONE)


def grade_moves(user: User, *, start: datetime.date, end: datetime.date, direction: str | None = None,
                from_grade: str | None = None, to_grade: str | None = None) -> QuerySet:
    """Upgrades and downgrades recorded between start and end (first grades excluded)."""
    moves = visible_related(user, GradeHistory.objects.filter(on__gte=start, on__lte=end, run__status=ScoringRun.Status.DONE)
                            .exclude(from_grade=""))
    if from_grade:
        moves = moves.filter(from_grade=from_grade)
    if to_grade:
        moves = moves.filter(grade=to_grade)
    rank = {"key": 0, "normal": 1, "small": 2, "bad": 3}
    if direction in ("up", "down"):
        pairs = [(a, b) for a in rank for b in rank if (rank[b] < rank[a]) == (direction == "up") and a != b]
        condition = Q(pk__in=[])
        for a, b in pairs:
            condition |= Q(from_grade=a, grade=b)
        moves = moves.filter(condition)
    return moves.select_related("customer").order_by("-on", "-id")


def grade_transitions(user: User, *, start: datetime.date, end: datetime.date) -> dict[tuple[str, str], int]:
    """Moves between start and end per (from grade, to grade), in one GROUP BY."""
    rows = grade_moves(user, start=start, end=end).order_by().values_list("from_grade", "grade").annotate(n=Count("pk"))
    return {(a, b): n for a, b, n in rows}


def service_policy_for(user: User, customer_id: int) -> ServicePolicy | None:
    """The policy for the customer's current grade and upgrade potential; None before any scoring."""
    customer = visible_customers(user).only("pk", "upgrade_potential").get(pk=customer_id)
    grade = CustomerScore.objects.filter(run__is_current=True, customer=customer).values_list("grade", flat=True).first()
    if grade is None:
        return None
    return ServicePolicy.objects.filter(grade=grade, with_potential=customer.upgrade_potential != UpgradePotential.NONE).first()


# --- Warnings ---------------------------------------------------------------------------------------

def visible_warnings(user: User) -> QuerySet:
    """Administrators see every warning; others the warnings on customers they see and those about
    or assigned to them; warnings with no customer and no assignee (export volume) are for administrators."""
    warnings = Warning.objects.all()
    if user.is_active and (user.is_superuser or user.role == Role.ADMIN):
        return warnings
    if not user.is_active:
        return warnings.none()
    on_customers = Q(customer__isnull=False) if sees_all_customers(user) else Q(customer__in=visible_customers(user).values("pk"))
    about_them = Q(subject_user=user) & ~Q(kind=WarningKind.EXPORT_VOLUME)  # the exporter is not tipped off
    return warnings.filter(on_customers | Q(assignee=user) | about_them)


def warnings_inbox(user: User, *, status: str | None = None, kind: str | None = None,
                   customer: int | None = None, mine: bool = False) -> QuerySet:
    warnings = visible_warnings(user)
    if status:
        warnings = warnings.filter(status=status)
    if kind:
        warnings = warnings.filter(kind=kind)
    if customer:
        warnings = warnings.filter(customer_id=customer)
    if mine:
        warnings = warnings.filter(assignee=user)
    return warnings.select_related("customer", "assignee").order_by("-created_at", "-id")


# --- Look-alikes, cross-sell, up-sell -------------------------------------------------------------------

@dataclasses.dataclass
class PurchaseMatrix:
    """Who bought what (binary), customers and products in sorted id order."""

    customer_ids: np.ndarray
    product_ids: np.ndarray
    index: LookAlikes


def purchase_matrix() -> PurchaseMatrix | None:
    pairs = np.array(
        list(OrderLine.objects.filter(order__status__in=BILLED_STATUSES).order_by()
             .values_list("order__customer_id", "product_id").distinct()),
        dtype=np.int64,
    ).reshape(-1, 2)
    if len(pairs) == 0:
        return None
    customers, rows = np.unique(pairs[:, 0], return_inverse=True)
    products, cols = np.unique(pairs[:, 1], return_inverse=True)
    matrix = sparse.csr_array((np.ones(len(pairs)), (rows.ravel(), cols.ravel())), shape=(len(customers), len(products)))
    return PurchaseMatrix(customers, products, LookAlikes(matrix))


def product_lookalikes(user: User, product_id: int, *, limit: int = 50) -> list[tuple[Customer, float]]:
    """Visible customers who have not bought the product, most like its buyers first (cross-sell list)."""
    product = Product.objects.get(pk=product_id)
    data = purchase_matrix()
    if data is None or product.pk not in set(data.product_ids.tolist()):
        return []
    column = int(np.searchsorted(data.product_ids, product.pk))
    ranking = data.index.rank(column)
    positive = ranking.scores > 0
    candidates, scores = data.customer_ids[ranking.customers][positive], ranking.scores[positive]
    # Ask which of the best candidates the user sees, a growing slice at a time, rather than sending
    # every candidate id (tens of thousands at 100k customers) in one IN list.
    chosen, start, step = [], 0, max(4 * limit, 500)
    while len(chosen) < limit and start < len(candidates):
        chunk = [int(c) for c in candidates[start:start + step]]
        visible = set(visible_customers(user).filter(pk__in=chunk).values_list("pk", flat=True))
        chosen += [(c, float(s)) for c, s in zip(chunk, scores[start:start + step], strict=True) if c in visible]
        start, step = start + step, min(step * 4, 20_000)
    chosen = chosen[:limit]
    customers = Customer.objects.select_related("owner").in_bulk([c for c, _s in chosen])
    return [(customers[c], s) for c, s in chosen]


def cross_sell_for_customer(user: User, customer_id: int, *, limit: int = 10) -> list[tuple[Product, float]]:
    """Products that customers like this one bought and this one has not: score = cosine similarity
    of purchase vectors, summed over the 50 most similar customers who bought the product."""
    customer = visible_customers(user).only("pk").get(pk=customer_id)
    data = purchase_matrix()
    if data is None or customer.pk not in set(data.customer_ids.tolist()):
        return []
    matrix = data.index.matrix
    row = int(np.searchsorted(data.customer_ids, customer.pk))
    norms = np.sqrt(data.index.squared_norms)
    mine = matrix[[row]]
    similarity = (matrix @ mine.T).toarray().ravel() / np.maximum(norms * norms[row], 1e-12)
    similarity[row] = 0
    neighbours = np.argsort(-similarity, kind="stable")[:50]
    neighbours = neighbours[similarity[neighbours] > 0]
    scores = similarity[neighbours] @ matrix[neighbours].toarray()
    scores[mine.toarray().ravel() > 0] = 0
    order = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0][:limit]
    products = Product.objects.in_bulk([int(data.product_ids[i]) for i in order])
    return [(products[int(data.product_ids[i])], float(scores[i])) for i in order]


def up_sell_for_customer(user: User, customer_id: int, *, limit: int = 10) -> QuerySet:
    """Active products pricier than the dearest one the customer bought in each category they buy."""
    customer = visible_customers(user).only("pk").get(pk=customer_id)
    bought = (OrderLine.objects.filter(order__customer=customer, order__status__in=BILLED_STATUSES, product__category__isnull=False)
              .order_by().values("product__category").annotate(top=Max("product__list_price")))
    condition = Q(pk__in=[])
    for row in bought:
        condition |= Q(category_id=row["product__category"], list_price__gt=row["top"])
    return Product.objects.filter(condition, is_active=True).order_by("list_price", "pk")[:limit]


def _profile_features(customers: list[dict]) -> dict[tuple, int]:
    columns: dict[tuple, int] = {}
    for c in customers:
        for feature in _features(c):
            columns.setdefault(feature, len(columns))
    return columns


def _features(c: dict) -> list[tuple]:
    size = None if c["employees"] is None else int(np.log10(max(c["employees"], 1)))
    return [(name, c[name]) for name in ("kind", "industry", "province", "city", "source", "customer_type") if c[name]] + (
        [("size", size)] if size is not None else [])


def ranked_prospects(user: User, *, limit: int = 50) -> list[tuple[Customer, float]]:
    """Potential and target customers most like the key and loyal customers (seed 000's target
    selection): profile features one-hot, ranked by cosine to the seed customers' centroid."""
    fields = ("pk", "kind", "industry", "province", "city", "source", "customer_type", "employees")
    seeds = list(Customer.objects.filter(
        Q(scores__run__is_current=True) & (Q(scores__grade="key") | Q(scores__behaviour_segment="loyal"))).values(*fields))
    seed_ids = {c["pk"] for c in seeds}  # a key or loyal customer still marked potential is no prospect
    prospects = [c for c in visible_customers(user).filter(state__in=[State.POTENTIAL, State.TARGET]).values(*fields)[:50_000]
                 if c["pk"] not in seed_ids]
    if not seeds or not prospects:
        return []
    everyone = seeds + prospects
    columns = _profile_features(everyone)
    seed_column = len(columns)
    rows, cols = [], []
    for i, c in enumerate(everyone):
        for feature in _features(c):
            rows.append(i)
            cols.append(columns[feature])
        if i < len(seeds):
            rows.append(i)
            cols.append(seed_column)
    matrix = sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=(len(everyone), seed_column + 1))
    ranking = LookAlikes(matrix).rank(seed_column, top=limit)
    chosen = [(prospects[int(r) - len(seeds)]["pk"], float(s)) for r, s in zip(ranking.customers, ranking.scores, strict=True)]
    found = Customer.objects.select_related("owner").in_bulk([pk for pk, _s in chosen])
    return [(found[pk], s) for pk, s in chosen]


# --- Relationship value and KPIs --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class RelationshipValue:
    margin_to_date: Decimal
    clv: Decimal | None
    referral_value: Decimal  # profit to date of the customers they brought, directly and indirectly
    referred_customers: int
    spend_12m: Decimal


def relationship_value(user: User, customer_id: int, *, max_depth: int = 10) -> RelationshipValue:
    customer = visible_customers(user).only("pk").get(pk=customer_id)
    score = CustomerScore.objects.filter(run__is_current=True, customer=customer).first()
    referred, frontier = set(), {customer.pk}
    for _depth in range(max_depth):
        frontier = set(Customer.objects.filter(referred_by__in=frontier).values_list("pk", flat=True)) - referred - {customer.pk}
        if not frontier:
            break
        referred |= frontier
    referral = CustomerScore.objects.filter(run__is_current=True, customer_id__in=referred).aggregate(s=Sum("profit"))["s"]
    return RelationshipValue(
        margin_to_date=score.profit if score else ZERO, clv=score.clv if score else None,
        referral_value=referral or ZERO, referred_customers=len(referred), spend_12m=score.spend_12m if score else ZERO,
    )


@dataclasses.dataclass(frozen=True)
class Kpis:
    customer_equity: Decimal
    customers_buying: int
    new_customers: int
    returning_customers: int
    repurchase_rate: float | None
    churn_rate: float | None
    price_sensitivity: float | None  # share of orders bought on discount


def kpis(user: User, *, start: datetime.date, end: datetime.date, owner: int | None = None,
         grade: str | None = None, previous_start: datetime.date | None = None) -> Kpis:
    """Per period (and optionally owner or grade): customer equity (Σ profit to date + Σ CLV, current run),
    new vs returning buyers, repurchase rate (buyers of the previous period who bought again: from
    `previous_start` up to `start`, by default the equal number of days before), churn rate (1 − that),
    price sensitivity (share of the period's orders with a discount)."""
    orders, scores = _kpi_scope(user, owner=owner, grade=grade)
    equity = scores.aggregate(p=Sum("profit"), c=Sum("clv"))
    in_period = orders.filter(order_date__gte=start, order_date__lte=end)
    previous_start = previous_start or start - (end - start + datetime.timedelta(days=1))
    previous = orders.filter(order_date__gte=previous_start, order_date__lt=start)
    # Counted in the database: per order of the period, one probe of the (customer, date) index each.
    bought_before = Exists(orders.filter(customer_id=OuterRef("customer_id"), order_date__lt=start))
    bought_previously = Exists(previous.filter(customer_id=OuterRef("customer_id")))
    counts = in_period.annotate(bought_before=bought_before, bought_previously=bought_previously).aggregate(
        n=Count("pk"), discounted=Count("pk", filter=Q(discount_total__gt=0)), buyers=Count("customer_id", distinct=True),
        returning=Count("customer_id", distinct=True, filter=Q(bought_before=True)),
        kept=Count("customer_id", distinct=True, filter=Q(bought_previously=True)))
    n_previous = previous.aggregate(n=Count("customer_id", distinct=True))["n"]
    return Kpis(
        customer_equity=(equity["p"] or ZERO) + (equity["c"] or ZERO),
        customers_buying=counts["buyers"], new_customers=counts["buyers"] - counts["returning"],
        returning_customers=counts["returning"],
        repurchase_rate=counts["kept"] / n_previous if n_previous else None,
        churn_rate=1 - counts["kept"] / n_previous if n_previous else None,
        price_sensitivity=counts["discounted"] / counts["n"] if counts["n"] else None,
    )


def _kpi_scope(user: User, *, owner: int | None, grade: str | None) -> tuple[QuerySet, QuerySet]:
    """Billed orders and current scores of the visible customers (of one owner, of one grade)."""
    orders = Order.objects.filter(status__in=BILLED_STATUSES).order_by()
    scores = CustomerScore.objects.filter(run__is_current=True)
    if sees_all_customers(user) and not owner and not grade:
        return orders, scores
    customers = visible_customers(user)
    if owner:
        customers = customers.filter(owner_id=owner)
    if grade:
        customers = customers.filter(pk__in=CustomerScore.objects.filter(run__is_current=True, grade=grade).values("customer_id"))
    ids = customers.values("pk")
    return orders.filter(customer__in=ids), scores.filter(customer__in=ids)


# --- Exports ---------------------------------------------------------------------------------------------

EXPORT_FILTERS = {"state", "owner", "grade", "value_segment", "tag", "ids", "search", "lookalikes_of", "prospects", "limit", "scores"}
TARGET_LIST_MAX = 1_000  # look-alike and prospect lists are rankings: their head, never the whole table


def target_list_limit(raw, default: int = 100) -> int:
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    try:
        limit = default if raw in (None, "") else int(raw)
    except (TypeError, ValueError):
        raise ValidationError({"limit": _("Give the number of customers as a whole number.")}) from None
    if not 1 <= limit <= TARGET_LIST_MAX:
        raise ValidationError({"limit": _("Choose between 1 and %(max)d customers.") % {"max": TARGET_LIST_MAX}})
    return limit


def target_list_ids(user: User, filters: dict) -> list[int] | None:
    """The ranked list a look-alike (`lookalikes_of`: product id) or prospect (`prospects`: true) filter
    names, as customer ids, best first; None when the filter names neither."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if filters.get("lookalikes_of") not in (None, ""):
        limit = target_list_limit(filters.get("limit"))
        try:
            return [c.pk for c, _s in product_lookalikes(user, int(filters["lookalikes_of"]), limit=limit)]
        except (TypeError, ValueError, Product.DoesNotExist):
            raise ValidationError({"lookalikes_of": _("No such product.")}) from None
    if filters.get("prospects"):
        return [c.pk for c, _s in ranked_prospects(user, limit=target_list_limit(filters.get("limit")))]
    return None


def _scores_filter(user: User, raw) -> QuerySet:
    """The scores page's filter (current_scores' keyword arguments) as a set of customer ids."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if not isinstance(raw, dict) or not all(isinstance(v, (str, int, float, type(None))) and not isinstance(v, bool)
                                            for v in raw.values()):
        raise ValidationError({"scores": _("Give the scores filter as an object of plain values.")})
    try:
        scores = current_scores(user, **{k: v for k, v in raw.items() if v not in (None, "")})
        ids = scores.order_by().values("customer_id")
        str(ids.query)  # compiles now, so a bad value is a 422 here rather than an error mid-stream
    except (TypeError, ValueError, ValidationError):
        raise ValidationError({"scores": _("Unknown or invalid scores filter.")}) from None
    return ids


def customers_for_export(user: User, filters: dict) -> QuerySet:
    """Visible customers matching the export filter, with their current grade and CLV."""
    from django.core.exceptions import ValidationError
    from django.db.models import OuterRef, Subquery
    from django.utils.translation import gettext as _

    unknown = set(filters) - EXPORT_FILTERS
    if unknown:
        raise ValidationError({"filters": _("Unknown filter(s): %(names)s") % {"names": ", ".join(sorted(unknown))}})
    customers = visible_customers(user)
    if filters.get("state"):
        customers = customers.filter(state=filters["state"])
    if filters.get("owner"):
        customers = customers.filter(owner_id=filters["owner"])
    if filters.get("tag"):
        customers = customers.filter(tags__name=filters["tag"])
    if filters.get("ids"):
        try:
            customers = customers.filter(pk__in=[int(i) for i in filters["ids"]][:100_000])
        except (TypeError, ValueError):
            raise ValidationError({"ids": _("Give the customers as a list of ids.")}) from None
    ranked = target_list_ids(user, filters)
    if ranked is not None:
        customers = customers.filter(pk__in=ranked)
    if filters.get("scores") is not None:
        customers = customers.filter(pk__in=_scores_filter(user, filters["scores"]))
    if filters.get("search"):
        from guanxi.customers.search import search_customers

        customers = customers.filter(pk__in=search_customers(user, str(filters["search"])).values("pk"))
    current = CustomerScore.objects.filter(run__is_current=True, customer_id=OuterRef("pk"))
    customers = customers.annotate(current_grade=Subquery(current.values("grade")[:1]),
                                   current_clv=Subquery(current.values("clv")[:1]))
    if filters.get("grade"):
        customers = customers.filter(current_grade=filters["grade"])
    if filters.get("value_segment"):
        customers = customers.filter(pk__in=CustomerScore.objects.filter(run__is_current=True, value_segment=filters["value_segment"]).values("customer_id"))
    return customers.order_by("pk")


# --- Insights pages -------------------------------------------------------------------------------------

GRADE_ORDER = ("key", "normal", "small", "bad")


def pyramid(user: User, *, owner: int | None = None) -> list[dict]:
    """The customer pyramid of the current run: count against profit (and CLV) per grade, top first,
    over the customers `user` sees."""
    rows = {r["grade"]: r for r in current_scores(user, owner=owner).order_by().values("grade")
            .annotate(customers=Count("pk"), profit=Sum("profit"), clv=Sum("clv"))}
    total_count = sum(r["customers"] for r in rows.values()) or 1
    total_profit = sum((r["profit"] or ZERO) for r in rows.values())
    return [{
        "grade": grade, "customers": rows.get(grade, {}).get("customers", 0),
        "count_share": round(100 * rows.get(grade, {}).get("customers", 0) / total_count),
        "profit": rows.get(grade, {}).get("profit") or ZERO, "clv": rows.get(grade, {}).get("clv") or ZERO,
        "profit_share": round(100 * (rows.get(grade, {}).get("profit") or ZERO) / total_profit) if total_profit else 0,
    } for grade in GRADE_ORDER]


def churn_risks(user: User, *, limit: int = 10, owner: int | None = None) -> QuerySet:
    """Customers (not lost) least likely to still be buying, by P(alive)."""
    return (current_scores(user, owner=owner).filter(p_alive__isnull=False).exclude(customer__state=State.LOST)
            .order_by("p_alive", "customer_id")[:limit])


# --- Insights charts: each is one GROUP BY over the current run's scores of the customers user sees ------

CENT = Decimal("0.01")
# CLV histogram edges, 1-2-5 per decade: CLV is heavy-tailed, so equal-width buckets would put nearly
# everyone in the first. The histogram shows the stretch of buckets the data occupies.
CLV_EDGES = tuple(Decimal(m) * 10 ** e for e in range(1, 9) for m in (1, 2, 5))


def top_clv(user: User, *, owner: int | None = None, limit: int = 10) -> QuerySet:
    return current_scores(user, owner=owner).filter(clv__isnull=False)[:limit]


def rfm_heatmap(user: User, *, owner: int | None = None, bins: int = 5) -> dict:
    """Customers and their average revenue to date per (R score, F score), recent (high R) first."""
    rows = (current_scores(user, owner=owner).order_by().values_list("recency_score", "frequency_score")
            .annotate(n=Count("pk"), revenue=Sum("revenue")))
    cells = {(r, f): (n, revenue or ZERO) for r, f, n, revenue in rows}
    bins = max([bins, *(max(key) for key in cells)])
    grid = []
    for r in range(bins, 0, -1):
        row = []
        for f in range(1, bins + 1):
            n, revenue = cells.get((r, f), (0, ZERO))
            row.append({"r": r, "f": f, "customers": n, "average_revenue": (revenue / n).quantize(CENT) if n else None})
        grid.append({"r": r, "cells": row, "customers": sum(c["customers"] for c in row)})
    columns = [{"f": f, "customers": sum(n for (_r, f2), (n, _m) in cells.items() if f2 == f)} for f in range(1, bins + 1)]
    return {"bins": bins, "rows": grid, "columns": columns, "customers": sum(n for n, _m in cells.values())}


def segment_figures(user: User, field: str, choices, *, owner: int | None = None) -> list[dict]:
    """Customers, profit, revenue and average order value per value of a score column
    (value_segment, behaviour_segment or stage), in the choices' order."""
    assert field in ("value_segment", "behaviour_segment", "stage")
    rows = {value: (n, profit or ZERO, revenue or ZERO, orders or 0) for value, n, profit, revenue, orders in
            current_scores(user, owner=owner).order_by().values_list(field)
            .annotate(n=Count("pk"), profit=Sum("profit"), revenue=Sum("revenue"), orders=Sum("orders"))}
    figures = []
    for value, label in choices:
        n, profit, revenue, orders = rows.get(value, (0, ZERO, ZERO, 0))
        figures.append({"segment": value, "label": str(label), "customers": n, "profit": profit.quantize(CENT),
                        "revenue": revenue.quantize(CENT), "average_order": (revenue / orders).quantize(CENT) if orders else None})
    return figures


def clv_distribution(user: User, *, owner: int | None = None) -> dict:
    """Customers per CLV bucket [low, high) over the stretch of CLV_EDGES the data occupies (the last
    bucket has no upper bound), and how many have no CLV (one-off buyers,
    first purchase on the scoring day, or too few repeat buyers to fit the models)."""
    from django.db.models import Case, IntegerField, Value, When

    bucket = Case(*[When(clv__gte=edge, then=Value(i + 1)) for i, edge in reversed(list(enumerate(CLV_EDGES)))],
                  When(clv__isnull=False, then=Value(0)), default=Value(-1), output_field=IntegerField())
    counts = {b: (n, total or ZERO) for b, n, total in current_scores(user, owner=owner).order_by().annotate(bucket=bucket)
              .values_list("bucket").annotate(n=Count("pk"), total=Sum("clv"))}
    without = counts.pop(-1, (0, ZERO))[0]
    buckets = []
    if counts:
        for b in range(min(counts), max(counts) + 1):
            n, total = counts.get(b, (0, ZERO))
            # The top bucket is open (its link then also holds the empty buckets above); the
            # bottom one (below the first edge) has no lower bound, so it holds negative CLVs too.
            buckets.append({"low": CLV_EDGES[b - 1] if b > 0 else None,
                            "high": CLV_EDGES[b] if b < max(counts) or b == 0 else None,
                            "customers": n, "clv": total.quantize(CENT)})
    return {"buckets": buckets, "without_clv": without, "customers": sum(n for n, _t in counts.values())}


def warnings_overview(user: User) -> list[dict]:
    """Open and acknowledged warnings per kind, of the warnings the user sees."""
    rows = (visible_warnings(user).exclude(status=Warning.Status.RESOLVED).order_by()
            .values_list("kind", "status").annotate(n=Count("pk")))
    counts = {(kind, status): n for kind, status, n in rows}
    return [{"kind": kind, "label": str(label), "open": counts.get((kind, Warning.Status.OPEN), 0),
             "acknowledged": counts.get((kind, Warning.Status.ACKNOWLEDGED), 0)}
            for kind, label in WarningKind.choices if (kind, Warning.Status.OPEN) in counts or (kind, Warning.Status.ACKNOWLEDGED) in counts]


# --- KPI periods -----------------------------------------------------------------------------------------

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def period_shift(kind: str, start: datetime.date, n: int) -> datetime.date:
    """The first day of the period n periods after the one starting on `start` (n < 0: before)."""
    index = start.year * 12 + start.month - 1 + PERIOD_MONTHS[kind] * n
    return datetime.date(index // 12, index % 12 + 1, 1)


def period_bounds(kind: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """First and last day of the calendar month, quarter or year holding `day`."""
    months = PERIOD_MONTHS[kind]
    start = datetime.date(day.year, (day.month - 1) // months * months + 1, 1)
    return start, period_shift(kind, start, 1) - datetime.timedelta(days=1)


TREND_DETAIL_ORDERS = 100_000


@dataclasses.dataclass(frozen=True)
class KpiPeriod:
    start: datetime.date
    end: datetime.date
    orders: int
    customers_buying: int
    new_customers: int | None  # None: left out, the scope has too many orders (TREND_DETAIL_ORDERS)
    returning_customers: int | None
    repurchase_rate: float | None
    churn_rate: float | None
    price_sensitivity: float | None


def kpi_trend(user: User, *, kind: str, day: datetime.date, periods: int = 12, owner: int | None = None,
              grade: str | None = None) -> list[KpiPeriod]:
    """kpis() (bar equity) for the `periods` calendar periods up to the one holding `day`, oldest first,
    each against the previous calendar period, in one GROUP BY over the window's orders (plus the
    period before, the first one's repurchase base); two index probes per order, as kpis() does."""
    from django.db.models import Case, DateField, IntegerField, Value, When

    last_start, last_end = period_bounds(kind, day)
    starts = [period_shift(kind, last_start, -k) for k in range(periods + 1, -1, -1)]  # [before base, base, 1 … periods]

    def per_period(values, field):
        """The value for the period an order falls in: periods 0 (the base) … `periods`."""
        return Case(*[When(order_date__gte=start, then=Value(value)) for start, value in reversed(list(zip(starts[1:], values, strict=True)))],
                    output_field=field)

    orders, _scores = _kpi_scope(user, owner=owner, grade=grade)
    window = orders.filter(order_date__gte=starts[1], order_date__lte=last_end)
    # The index probes cost about a second per 100k orders: past TREND_DETAIL_ORDERS the trend
    # keeps the cheap figures (orders, buyers, discount share) and leaves new/returning/repurchase out.
    detailed = window[:TREND_DETAIL_ORDERS].count() < TREND_DETAIL_ORDERS
    rows = window.annotate(k=per_period(range(periods + 1), IntegerField()))
    sums = {"n": Count("pk"), "discounted": Count("pk", filter=Q(discount_total__gt=0)), "buyers": Count("customer_id", distinct=True)}
    if detailed:
        rows = (rows.annotate(period_start=per_period(starts[1:], DateField()), base_start=per_period(starts[:-1], DateField()))
                .annotate(bought_before=Exists(orders.filter(customer_id=OuterRef("customer_id"), order_date__lt=OuterRef("period_start"))),
                          bought_previously=Exists(orders.filter(customer_id=OuterRef("customer_id"), order_date__lt=OuterRef("period_start"),
                                                                 order_date__gte=OuterRef("base_start")))))
        sums |= {"returning": Count("customer_id", distinct=True, filter=Q(bought_before=True)),
                 "kept": Count("customer_id", distinct=True, filter=Q(bought_previously=True))}
    figures = {row["k"]: row for row in rows.values("k").annotate(**sums).order_by()}
    empty = {"n": 0, "discounted": 0, "buyers": 0, "returning": 0, "kept": 0}
    trend = []
    for k in range(1, periods + 1):
        row, base = figures.get(k, empty), figures.get(k - 1, empty)["buyers"]
        trend.append(KpiPeriod(
            start=starts[k + 1], end=period_shift(kind, starts[k + 1], 1) - datetime.timedelta(days=1), orders=row["n"],
            customers_buying=row["buyers"],
            new_customers=row["buyers"] - row["returning"] if detailed else None,
            returning_customers=row["returning"] if detailed else None,
            repurchase_rate=row["kept"] / base if detailed and base else None,
            churn_rate=1 - row["kept"] / base if detailed and base else None,
            price_sensitivity=row["discounted"] / row["n"] if row["n"] else None,
        ))
    return trend


# --- The customer 360 panel ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class CustomerInsights:
    customer: Customer
    score: CustomerScore | None
    spend_tier: str  # the tier's name, "" when unscored or no tier reached
    history: list
    policy: ServicePolicy | None
    last_contact: datetime.datetime | None
    next_contact_due: datetime.date | None  # None when the policy sets no frequency
    contact_due_now: bool
    payment_terms: str  # the policy's terms, as their label
    value: RelationshipValue
    wallet: Decimal | None  # estimated yearly wallet; None = unknown
    share_of_wallet: float | None
    open_warnings: list


def estimated_wallet(customer: Customer) -> Decimal | None:
    """What the customer could spend a year with anyone: twelve times the monthly budget recorded in a
    person's consumption profile. An organisation's profile records no purchasing budget (annual revenue
    is not a wallet), so theirs is unknown until one is recorded."""
    budget = ((customer.profile or {}).get("consumption") or {}).get("monthly_budget") if customer.kind == "person" else None
    if budget in (None, ""):
        return None
    try:
        monthly = Decimal(str(budget))
    except ArithmeticError:
        return None
    return (monthly * 12).quantize(Decimal("0.01")) if monthly.is_finite() and monthly > 0 else None


def customer_insights(user: User, customer_id: int, *, history: int = 12) -> CustomerInsights:
    """Everything the 360 page's insights section shows, in a fixed handful of queries
    (Customer.DoesNotExist when the customer is not visible)."""
    from guanxi.engagement.models import Interaction

    customer = visible_customers(user).only("pk", "name", "kind", "profile", "upgrade_potential").get(pk=customer_id)
    score = CustomerScore.objects.filter(run__is_current=True, customer=customer).select_related("run").first()
    tier = ""
    policy = None
    if score is not None:
        if score.spend_tier:
            tier = SpendTier.objects.filter(key=score.spend_tier).values_list("name", flat=True).first() or score.spend_tier
        policy = ServicePolicy.objects.filter(grade=score.grade,
                                              with_potential=customer.upgrade_potential != UpgradePotential.NONE).first()
    last_contact = next_due = None
    if policy is not None and policy.contact_every_days:
        last_contact = Interaction.objects.filter(customer=customer).order_by("-occurred_at").values_list("occurred_at", flat=True).first()
        next_due = (timezone.localdate(last_contact) + datetime.timedelta(days=policy.contact_every_days)
                    if last_contact else timezone.localdate())
    value = relationship_value(user, customer.pk)
    wallet = estimated_wallet(customer)
    return CustomerInsights(
        customer=customer, score=score, spend_tier=tier,
        history=list(GradeHistory.objects.filter(customer=customer, run__status=ScoringRun.Status.DONE).order_by("-on", "-id")[:history]),
        policy=policy, last_contact=last_contact, next_contact_due=next_due, value=value, wallet=wallet,
        contact_due_now=next_due is not None and next_due <= timezone.localdate(),
        payment_terms=str(dict(PaymentTerms.choices).get(policy.payment_terms, policy.payment_terms)) if policy else "",
        share_of_wallet=float(value.spend_12m / wallet) if wallet else None,
        open_warnings=list(warnings_inbox(user, customer=customer.pk).exclude(status=Warning.Status.RESOLVED)[:20]),
    )


def customer_exports(user: User) -> QuerySet:
    """The log of customer-list exports, newest first: for administrators only (PermissionDenied otherwise)."""
    from django.core.exceptions import PermissionDenied
    from django.utils.translation import gettext as _

    from guanxi.insights.models import CustomerExport

    if not (user.is_active and (user.is_superuser or user.role == Role.ADMIN)):
        raise PermissionDenied(_("Only administrators see the export log."))
    return CustomerExport.objects.select_related("user").order_by("-created_at", "-id")


# --- Lost customers and win-back ----------------------------------------------------------------------

WINBACK_GROUPS = ("month", "reason", "owner")


def visible_winbacks(user: User) -> QuerySet:
    from guanxi.insights.models import WinBack

    return visible_related(user, WinBack.objects.all())


def winbacks(user: User, *, status: str | None = None, reason: str | None = None, owner: int | None = None,
             start: datetime.date | None = None, end: datetime.date | None = None, outcome: str | None = None) -> QuerySet:
    """Lost episodes of the customers `user` sees, newest loss first. `outcome` narrows to the
    figures of the success table: "attempted" (a win-back was started), "won_back" (won back after
    one), "unprompted" (came back without one)."""
    from guanxi.insights.models import WinBack

    rows = visible_winbacks(user)
    if status:
        rows = rows.filter(status=status)
    if reason is not None:
        rows = rows.filter(reason_category=reason)
    if owner:
        rows = rows.filter(owner_id=owner)
    if start:
        rows = rows.filter(lost_on__gte=start)
    if end:
        rows = rows.filter(lost_on__lte=end)
    if outcome == "attempted":
        rows = rows.filter(started_at__isnull=False)
    elif outcome == "won_back":
        rows = rows.filter(started_at__isnull=False, status=WinBack.Status.WON_BACK)
    elif outcome == "unprompted":
        rows = rows.filter(started_at__isnull=True, status=WinBack.Status.WON_BACK)
    return rows.select_related("customer", "owner", "task", "lost_change").order_by("-lost_on", "-id")


@dataclasses.dataclass
class WinBackSuccess:
    key: object  # the month (date), reason value or owner id
    label: str
    lost: int
    attempted: int
    won_back: int
    unprompted: int
    median_days: float | None
    revenue_regained: Decimal

    @property
    def rate(self) -> float | None:
        return self.won_back / self.attempted if self.attempted else None

    @property
    def rate_percent(self) -> int | None:
        return round(100 * self.rate) if self.rate is not None else None


class WinBackFigures:
    """The reasons breakdown and win-back success over the lost episodes `user` sees, from one query:
    the episodes are few (one per lost customer) and every figure is a grouping of the same rows,
    so they are read once and grouped here rather than sent through the visibility filter five times.

    Attempted = a win-back was started; won back = attempted and the customer came back; rate = won
    back / attempted; median days from the loss to the return and revenue regained over those won
    back. Customers who came back without a win-back are counted apart (unprompted), so they do not
    flatter the rate."""

    def __init__(self, user: User, **filters):
        from guanxi.insights.models import WinBack

        won = WinBack.Status.WON_BACK
        self.rows = [
            (reason, status == won, started is not None, lost_on, ended_on, owner_id, revenue)
            for reason, status, started, lost_on, ended_on, owner_id, revenue in winbacks(user, **filters).order_by()
            .values_list("reason_category", "status", "started_at", "lost_on", "ended_on", "owner_id", "revenue_regained")
        ]

    def reasons(self) -> list[dict]:
        """Lost episodes per reason category (every category, zeros included; "" = not given), most first."""
        from guanxi.customers.models import LostReason

        lost, won = collections.Counter(), collections.Counter()
        for reason, is_won, *_rest in self.rows:
            lost[reason] += 1
            won[reason] += is_won
        total = len(self.rows)
        labels = [*LostReason.choices, *([("", None)] if "" in lost else [])]
        rows = [{"reason": value, "label": label, "lost": lost[value], "won_back": won[value],
                 "share": round(100 * lost[value] / total) if total else 0} for value, label in labels]
        return sorted(rows, key=lambda r: -r["lost"])

    def success(self, by: str = "month") -> list[WinBackSuccess]:
        """Win-back success per month lost, reason or owner."""
        from guanxi.customers.models import LostReason

        if by not in WINBACK_GROUPS:
            by = "month"
        index = {"month": lambda r: r[3].replace(day=1), "reason": lambda r: r[0], "owner": lambda r: r[5]}[by]
        groups = collections.defaultdict(list)
        for row in self.rows:
            groups[index(row)].append(row)
        if by == "owner":
            names = {u.pk: str(u) for u in User.objects.filter(pk__in=[k for k in groups if k])}
            label = lambda k: names.get(k, "—") if k else "—"  # noqa: E731
        elif by == "reason":
            reasons = dict(LostReason.choices)
            label = lambda k: str(reasons.get(k, "—"))  # noqa: E731
        else:
            label = lambda k: f"{k:%Y-%m}"  # noqa: E731
        result = [self._figures(rows, key, label(key)) for key, rows in groups.items()]
        if by == "month":
            return sorted(result, key=lambda r: r.key, reverse=True)
        return sorted(result, key=lambda r: (-r.lost, r.label))

    def total(self) -> WinBackSuccess:
        """Over every episode (the median over every win, not a median of medians)."""
        return self._figures(self.rows, None, "")

    @staticmethod
    def _figures(rows, key, label) -> WinBackSuccess:
        import statistics

        wins = [r for r in rows if r[1] and r[2]]
        return WinBackSuccess(
            key=key, label=label, lost=len(rows), attempted=sum(1 for r in rows if r[2]), won_back=len(wins),
            unprompted=sum(1 for r in rows if r[1] and not r[2]),
            median_days=statistics.median((r[4] - r[3]).days for r in wins) if wins else None,
            revenue_regained=sum((r[6] for r in wins), ZERO),
        )


def lost_reasons(user: User, **filters) -> list[dict]:
    return WinBackFigures(user, **filters).reasons()


def winback_success(user: User, *, by: str = "month", **filters) -> list[WinBackSuccess]:
    return WinBackFigures(user, **filters).success(by)


def winback_totals(user: User, **filters) -> WinBackSuccess:
    return WinBackFigures(user, **filters).total()


def at_risk_customers(user: User) -> QuerySet:
    """Customers not (yet) lost who may be leaving: P(alive) in the current run below the churn
    rule's threshold, or an unresolved churn-risk warning. The most valuable (profit to date) first:
    their CLV is near zero by construction, so what they were worth says whom to call first."""
    from guanxi.insights.early_warnings import rule_parameters

    params = rule_parameters(WarningKind.CHURN_RISK) or {}
    threshold = float(params.get("p_alive_below", 0.3))
    warned = Warning.objects.filter(kind=WarningKind.CHURN_RISK).exclude(status=Warning.Status.RESOLVED).values("customer_id")
    return (current_scores(user).filter(Q(p_alive__lt=threshold) | Q(customer_id__in=warned))
            .exclude(customer__state=State.LOST).select_related("customer__owner").order_by("-profit", "p_alive", "customer_id"))
