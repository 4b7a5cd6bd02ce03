"""Every read of the insights app; each starts from visible_customers(user) / visible_related."""

import dataclasses
import datetime
from decimal import Decimal

import numpy as np
from django.db.models import Count, Max, Q, QuerySet, Sum
from scipy import sparse

from guanxi.accounts.models import Role, User
from guanxi.analytics.similarity import LookAlikes
from guanxi.core.visibility import sees_all_customers, visible_customers, visible_related
from guanxi.customers.models import Customer, State, UpgradePotential
from guanxi.insights.models import CustomerScore, GradeHistory, ScoringRun, ServicePolicy, Warning, WarningKind
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.sales.selectors import BILLED_STATUSES

ZERO = Decimal("0.00")


# --- Runs and scores -------------------------------------------------------------------------------

def current_run() -> ScoringRun | None:
    return ScoringRun.objects.filter(is_current=True).first()


def scoring_runs() -> QuerySet:
    return ScoringRun.objects.select_related("started_by")


def current_scores(user: User, *, grade: str | None = None, value_segment: str | None = None,
                   stage: str | None = None, owner: int | None = None) -> QuerySet:
    """The current run's scores of the customers `user` may see, highest CLV first."""
    scores = visible_related(user, CustomerScore.objects.filter(run__is_current=True))
    if grade:
        scores = scores.filter(grade=grade)
    if value_segment:
        scores = scores.filter(value_segment=value_segment)
    if stage:
        scores = scores.filter(stage=stage)
    if owner:
        scores = scores.filter(customer__owner_id=owner)
    return scores.select_related("customer").order_by("-clv", "customer_id")


def customer_scores(user: User, customer_id: int) -> QuerySet:
    """A visible customer's scores in the kept runs, newest first (Customer.DoesNotExist otherwise)."""
    customer = visible_customers(user).only("pk").get(pk=customer_id)
    return CustomerScore.objects.filter(customer=customer, run__status=ScoringRun.Status.DONE).select_related("run").order_by("-run__as_of", "-run_id")


def grade_history(user: User, customer_id: int) -> QuerySet:
    customer = visible_customers(user).only("pk").get(pk=customer_id)
    return GradeHistory.objects.filter(customer=customer, run__status=ScoringRun.Status.DONE)


def grade_moves(user: User, *, start: datetime.date, end: datetime.date, direction: str | None = None) -> QuerySet:
    """Upgrades and downgrades recorded between start and end (first grades excluded)."""
    moves = visible_related(user, GradeHistory.objects.filter(on__gte=start, on__lte=end, run__status=ScoringRun.Status.DONE)
                            .exclude(from_grade=""))
    rank = {"key": 0, "normal": 1, "small": 2, "bad": 3}
    if direction in ("up", "down"):
        pairs = [(a, b) for a in rank for b in rank if (rank[b] < rank[a]) == (direction == "up") and a != b]
        condition = Q(pk__in=[])
        for a, b in pairs:
            condition |= Q(from_grade=a, grade=b)
        moves = moves.filter(condition)
    return moves.select_related("customer").order_by("-on", "-id")


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
    candidates = data.customer_ids[ranking.customers]
    visible = set(visible_customers(user).filter(pk__in=candidates[ranking.scores > 0].tolist()).values_list("pk", flat=True))
    chosen = [(int(c), float(s)) for c, s in zip(candidates, ranking.scores, strict=True) if s > 0 and int(c) in visible][:limit]
    customers = Customer.objects.in_bulk([c for c, _s in chosen])
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
    prospects = list(visible_customers(user).filter(state__in=[State.POTENTIAL, State.TARGET]).values(*fields)[:50_000])
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
    found = Customer.objects.in_bulk([pk for pk, _s in chosen])
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
         grade: str | None = None) -> Kpis:
    """Per period (and optionally owner or grade): customer equity (Σ profit to date + Σ CLV, current run),
    new vs returning buyers, repurchase rate (buyers of the previous equal period who bought again),
    churn rate (1 − that), price sensitivity (share of the period's orders with a discount)."""
    customers = visible_customers(user)
    if owner:
        customers = customers.filter(owner_id=owner)
    if grade:
        customers = customers.filter(scores__run__is_current=True, scores__grade=grade)
    ids = customers.values("pk")
    equity = CustomerScore.objects.filter(run__is_current=True, customer__in=ids).aggregate(p=Sum("profit"), c=Sum("clv"))
    orders = Order.objects.filter(status__in=BILLED_STATUSES, customer__in=ids).order_by()
    in_period = orders.filter(order_date__gte=start, order_date__lte=end)
    length = end - start + datetime.timedelta(days=1)
    previous = set(orders.filter(order_date__gte=start - length, order_date__lt=start).values_list("customer_id", flat=True).distinct())
    buyers = set(in_period.values_list("customer_id", flat=True).distinct())
    earlier = set(orders.filter(order_date__lt=start, customer_id__in=list(buyers)).values_list("customer_id", flat=True).distinct())
    counts = in_period.aggregate(n=Count("pk"), discounted=Count("pk", filter=Q(discount_total__gt=0)))
    kept = len(previous & buyers)
    return Kpis(
        customer_equity=(equity["p"] or ZERO) + (equity["c"] or ZERO),
        customers_buying=len(buyers), new_customers=len(buyers - earlier), returning_customers=len(earlier),
        repurchase_rate=kept / len(previous) if previous else None,
        churn_rate=1 - kept / len(previous) if previous else None,
        price_sensitivity=counts["discounted"] / counts["n"] if counts["n"] else None,
    )


# --- Exports ---------------------------------------------------------------------------------------------

EXPORT_FILTERS = {"state", "owner", "grade", "value_segment", "tag", "ids", "search"}


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
        customers = customers.filter(pk__in=[int(i) for i in filters["ids"]][:100_000])
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


def pyramid(user: User) -> list[dict]:
    """The customer pyramid of the current run: count against profit (and CLV) per grade, top first,
    over the customers `user` sees."""
    rows = {r["grade"]: r for r in current_scores(user).order_by().values("grade")
            .annotate(customers=Count("pk"), profit=Sum("profit"), clv=Sum("clv"))}
    total_count = sum(r["customers"] for r in rows.values()) or 1
    total_profit = sum((r["profit"] or ZERO) for r in rows.values())
    return [{
        "grade": grade, "customers": rows.get(grade, {}).get("customers", 0),
        "count_share": round(100 * rows.get(grade, {}).get("customers", 0) / total_count),
        "profit": rows.get(grade, {}).get("profit") or ZERO, "clv": rows.get(grade, {}).get("clv") or ZERO,
        "profit_share": round(100 * (rows.get(grade, {}).get("profit") or ZERO) / total_profit) if total_profit else 0,
    } for grade in GRADE_ORDER]


def churn_risks(user: User, *, limit: int = 10) -> QuerySet:
    """Customers (not lost) least likely to still be buying, by P(alive)."""
    return (current_scores(user).filter(p_alive__isnull=False).exclude(customer__state=State.LOST)
            .order_by("p_alive", "customer_id")[:limit])
