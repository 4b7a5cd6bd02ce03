"""Every read of sales data; each starts from what the user may see (core.visibility).

Lists return querysets (the caller slices and counts them with core.pagination.capped_count);
a single object outside the user's view raises DoesNotExist, which the API turns into a 404.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, F, Q, QuerySet, Sum
from django.utils import timezone

from guanxi.accounts.models import Role, User
from guanxi.core.visibility import sees_all_customers, visible_customers, visible_related
from guanxi.customers.models import Customer
from guanxi.sales.models import ExpenseBudget, Opportunity, Order, Payment, PipelineStage, Product, SalesExpense, SalesPlan

ZERO = Decimal("0.00")
# Orders that count as sales: drafts are not promises yet, cancellations never happened.
BILLED_STATUSES = (Order.Status.CONFIRMED, Order.Status.DELIVERED)
AGING_BUCKETS = (("current", None, 0), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


def _contains(queryset: QuerySet, search: str | None, *fields: str) -> QuerySet:
    if not search:
        return queryset
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": search})
    return queryset.filter(condition)


# --- Catalogue and pipeline (not customer data: everyone signed in sees them) ---------------

def products(*, search: str | None = None, category: int | None = None, active: bool | None = None) -> QuerySet:
    queryset = Product.objects.select_related("category")
    if category is not None:
        queryset = queryset.filter(category_id=category)
    if active is not None:
        queryset = queryset.filter(is_active=active)
    return _contains(queryset, search, "name", "sku")


def pipeline_stages() -> QuerySet:
    return PipelineStage.objects.order_by("position")


# --- Opportunities, orders, payments --------------------------------------------------------

def opportunities_for(user: User, *, customer: int | None = None, stage: int | None = None, owner: int | None = None,
                      is_open: bool | None = None, search: str | None = None) -> QuerySet:
    queryset = visible_related(user, Opportunity.objects.select_related("stage", "customer", "owner"))
    if customer is not None:
        queryset = queryset.filter(customer_id=customer)
    if stage is not None:
        queryset = queryset.filter(stage_id=stage)
    if owner is not None:
        queryset = queryset.filter(owner_id=owner)
    if is_open is not None:
        queryset = queryset.filter(closed_at__isnull=is_open)
    return _contains(queryset, search, "title")


def get_opportunity(user: User, pk: int) -> Opportunity:
    return opportunities_for(user).get(pk=pk)


def orders_for(user: User, *, customer: int | None = None, status: str | None = None, owner: int | None = None,
               date_from: datetime.date | None = None, date_to: datetime.date | None = None,
               search: str | None = None) -> QuerySet:
    queryset = visible_related(user, Order.objects.select_related("customer", "owner"))
    if customer is not None:
        queryset = queryset.filter(customer_id=customer)
    if status is not None:
        queryset = queryset.filter(status=status)
    if owner is not None:
        queryset = queryset.filter(owner_id=owner)
    if date_from is not None:
        queryset = queryset.filter(order_date__gte=date_from)
    if date_to is not None:
        queryset = queryset.filter(order_date__lte=date_to)
    if search:
        queryset = queryset.filter(number__icontains=search)
    return queryset


def get_order(user: User, pk: int) -> Order:
    """One order with its lines and products (two queries)."""
    return orders_for(user).prefetch_related("lines__product").get(pk=pk)


def payments_for(user: User, *, customer: int | None = None, order: int | None = None,
                 date_from: datetime.date | None = None, date_to: datetime.date | None = None) -> QuerySet:
    queryset = visible_related(user, Payment.objects.select_related("customer", "order"))
    if customer is not None:
        queryset = queryset.filter(customer_id=customer)
    if order is not None:
        queryset = queryset.filter(order_id=order)
    if date_from is not None:
        queryset = queryset.filter(paid_on__gte=date_from)
    if date_to is not None:
        queryset = queryset.filter(paid_on__lte=date_to)
    return queryset


# --- Receivables ---------------------------------------------------------------------------

@dataclass(frozen=True)
class OverdueOrder:
    order_id: int
    number: str
    due_date: datetime.date
    balance: Decimal
    days_overdue: int


@dataclass(frozen=True)
class Receivables:
    """What a customer owes (应收账款): billed orders minus every payment, and how late it is."""

    customer_id: int
    currency: str
    billed: Decimal
    paid: Decimal
    balance: Decimal
    unallocated: Decimal
    credit_limit: Decimal
    overdue_total: Decimal
    overdue: list[OverdueOrder] = field(default_factory=list)
    aging: dict[str, Decimal] = field(default_factory=dict)

    @property
    def over_credit_limit(self) -> bool:
        """Receivables above the credit limit (外欠款预警); a limit of 0 means none was granted."""
        return self.credit_limit > 0 and self.balance > self.credit_limit

    @property
    def available_credit(self) -> Decimal:
        return max(self.credit_limit - self.balance, ZERO)


def _bucket(days_overdue: int) -> str:
    for name, low, high in AGING_BUCKETS:
        if (low is None or days_overdue >= low) and (high is None or days_overdue <= high):
            return name
    return AGING_BUCKETS[-1][0]


def receivables_for(user: User, customer_id: int, *, today: datetime.date | None = None) -> Receivables:
    """Balance, overdue orders (due date passed, balance left), aging of open balances and credit use.

    Aging buckets count days past the due date: "current" is not yet due.
    """
    customer = visible_customers(user).only("pk", "credit_limit", "currency").get(pk=customer_id)
    today = today or timezone.localdate()
    billed_orders = Order.objects.filter(customer_id=customer.pk, status__in=BILLED_STATUSES)
    billed = billed_orders.aggregate(s=Sum("total"))["s"] or ZERO
    payments = Payment.objects.filter(customer_id=customer.pk).aggregate(
        paid=Sum("amount"), unallocated=Sum("amount", filter=Q(order__isnull=True))
    )
    paid, unallocated = payments["paid"] or ZERO, payments["unallocated"] or ZERO
    aging = {name: ZERO for name, _low, _high in AGING_BUCKETS}
    overdue = []
    open_orders = billed_orders.filter(total__gt=F("amount_paid")).only("pk", "number", "due_date", "total", "amount_paid").order_by("due_date", "pk")
    for order in open_orders:
        due = order.due_date or order.order_date
        days = (today - due).days
        aging[_bucket(days)] += order.balance
        if days > 0:
            overdue.append(OverdueOrder(order.pk, order.number, due, order.balance, days))
    return Receivables(
        customer_id=customer.pk, currency=customer.currency, billed=billed, paid=paid, balance=billed - paid,
        unallocated=unallocated, credit_limit=customer.credit_limit,
        overdue_total=sum((o.balance for o in overdue), ZERO), overdue=overdue, aging=aging,
    )


def overdue_orders(user: User, *, today: datetime.date | None = None) -> QuerySet:
    """Every visible order past its due date with money still owed, oldest due first."""
    today = today or timezone.localdate()
    return (
        orders_for(user)
        .filter(status__in=BILLED_STATUSES, due_date__lt=today, total__gt=F("amount_paid"))
        .order_by("due_date", "pk")
    )


# --- Plans, budgets and expenses -----------------------------------------------------------

def _plan_scope(user: User, model) -> QuerySet:
    """A plan is visible with its customer; a rep-only plan to that rep, their manager and all-seeing roles."""
    queryset = model.objects.select_related("owner", "customer")
    if sees_all_customers(user):
        return queryset
    condition = Q(customer__isnull=False, customer__in=visible_customers(user).values("pk")) | Q(customer__isnull=True, owner_id=user.pk)
    if user.role == Role.MANAGER and user.team_id:
        condition |= Q(customer__isnull=True, owner__team_id=user.team_id)
    return queryset.filter(condition)


def sales_plans_for(user: User) -> QuerySet:
    return _plan_scope(user, SalesPlan)


def expense_budgets_for(user: User) -> QuerySet:
    return _plan_scope(user, ExpenseBudget)


def sales_expenses_for(user: User, *, customer: int | None = None, order: int | None = None) -> QuerySet:
    queryset = visible_related(user, SalesExpense.objects.select_related("customer", "owner"))
    if customer is not None:
        queryset = queryset.filter(customer_id=customer)
    if order is not None:
        queryset = queryset.filter(order_id=order)
    return queryset


@dataclass(frozen=True)
class PlanProgress:
    """Plan against actual (销售进度): actual is the total of confirmed and delivered orders in the period."""

    target: Decimal
    actual: Decimal
    period_start: datetime.date
    period_end: datetime.date
    elapsed_share: Decimal  # how much of the period has passed, 0–1

    @property
    def achieved_share(self) -> Decimal | None:
        return (self.actual / self.target).quantize(Decimal("0.0001")) if self.target else None

    @property
    def behind_plan(self) -> bool:
        """Purchases lag the calendar (销售进度预警): less achieved than time elapsed."""
        return self.target > 0 and self.actual < (self.target * self.elapsed_share)


def _elapsed(start: datetime.date, end: datetime.date, today: datetime.date) -> Decimal:
    if today < start:
        return Decimal("0")
    if today >= end:
        return Decimal("1")
    return (Decimal((today - start).days + 1) / Decimal((end - start).days + 1)).quantize(Decimal("0.0001"))


def plan_progress(user: User, plan_id: int, *, today: datetime.date | None = None) -> PlanProgress:
    plan = sales_plans_for(user).get(pk=plan_id)
    orders = Order.objects.filter(status__in=BILLED_STATUSES, order_date__gte=plan.period_start, order_date__lte=plan.period_end)
    if plan.owner_id:
        orders = orders.filter(owner_id=plan.owner_id)
    if plan.customer_id:
        orders = orders.filter(customer_id=plan.customer_id)
    actual = orders.aggregate(s=Sum("total"))["s"] or ZERO
    return PlanProgress(plan.target, actual, plan.period_start, plan.period_end,
                        _elapsed(plan.period_start, plan.period_end, today or timezone.localdate()))


@dataclass(frozen=True)
class BudgetUse:
    budget: Decimal
    spent: Decimal

    @property
    def over_budget(self) -> bool:
        """Sales expenses beyond the budget (销售费用预警)."""
        return self.spent > self.budget


def budget_use(user: User, budget_id: int) -> BudgetUse:
    budget = expense_budgets_for(user).get(pk=budget_id)
    expenses = SalesExpense.objects.filter(spent_on__gte=budget.period_start, spent_on__lte=budget.period_end)
    if budget.owner_id:
        expenses = expenses.filter(owner_id=budget.owner_id)
    if budget.customer_id:
        expenses = expenses.filter(customer_id=budget.customer_id)
    return BudgetUse(budget.amount, expenses.aggregate(s=Sum("amount"))["s"] or ZERO)


def customer_exists_for(user: User, customer_id: int) -> Customer:
    """The visible customer, or DoesNotExist (→ 404)."""
    return visible_customers(user).get(pk=customer_id)



# --- Credit: approvals, collection cases and freezes --------------------------------------------

@dataclass(frozen=True)
class CreditStanding:
    """Where a customer's credit stands: the open collection case (if any) and whether credit is
    frozen — by the case's stage (CollectionPolicy.freeze_at) or by the service policy of the
    customer's current grade (ServicePolicy.credit_freeze) — unless a manager lifted it since."""

    customer_id: int
    case_id: int | None = None
    stage: str = ""
    frozen: bool = False
    freeze_source: str = ""  # "collection" or "grade"

    @property
    def stage_label(self) -> str:
        from guanxi.sales.models import CollectionStage

        return CollectionStage(self.stage).label if self.stage else ""

    @property
    def freeze_reason(self) -> str:
        from django.utils.translation import gettext as _

        if not self.frozen:
            return ""
        if self.freeze_source == "collection":
            return _("Credit frozen: overdue debts at the stage “%(stage)s”.") % {"stage": self.stage_label}
        return _("Credit frozen by the service policy of the customer's grade.")


def credit_standings(customer_ids) -> dict[int, CreditStanding]:
    """CreditStanding for each id (the caller has checked visibility): at most five queries."""
    from django.db.models import Max

    from guanxi.customers.models import UpgradePotential
    from guanxi.insights.models import CustomerScore, GradeHistory, ServicePolicy
    from guanxi.sales.models import CollectionCase, CreditFreezeLift

    ids = list({int(pk) for pk in customer_ids})
    if not ids:
        return {}
    cases = {customer_id: (pk, stage, frozen_at) for customer_id, pk, stage, frozen_at in
             CollectionCase.objects.filter(customer_id__in=ids, closed_at__isnull=True)
             .values_list("customer_id", "pk", "stage", "frozen_at")}
    freezing = set(ServicePolicy.objects.filter(credit_freeze=True).values_list("grade", "with_potential"))
    graded = {}
    if freezing:
        rows = (CustomerScore.objects.filter(run__is_current=True, customer_id__in=ids, grade__in={g for g, _p in freezing})
                .values_list("customer_id", "grade", "customer__upgrade_potential"))
        graded = {c: grade for c, grade, potential in rows if (grade, potential != UpgradePotential.NONE) in freezing}
    candidates = set(graded) | {c for c, (_pk, _stage, frozen_at) in cases.items() if frozen_at}
    lifts, moved = {}, {}
    if candidates:
        lifts = dict(CreditFreezeLift.objects.filter(customer_id__in=candidates).order_by().values("customer_id")
                     .annotate(last=Max("created_at")).values_list("customer_id", "last"))
    if graded and lifts:
        moved = {(c, g): on for c, g, on in GradeHistory.objects.filter(customer_id__in=[c for c in graded if c in lifts])
                 .order_by().values("customer_id", "grade").annotate(on=Max("on")).values_list("customer_id", "grade", "on")}
    standings = {}
    for pk in ids:
        case_id, stage, frozen_at = cases.get(pk, (None, "", None))
        lifted = lifts.get(pk)
        source = ""
        if frozen_at and (lifted is None or lifted < frozen_at):
            source = "collection"
        elif pk in graded:
            since = moved.get((pk, graded[pk]))
            if lifted is None or (since is not None and timezone.localtime(lifted).date() < since):
                source = "grade"
        standings[pk] = CreditStanding(customer_id=pk, case_id=case_id, stage=stage, frozen=bool(source), freeze_source=source)
    return standings


def credit_standing(customer_id: int) -> CreditStanding:
    return credit_standings([customer_id])[customer_id]


def pending_credit_approvals(user: User) -> QuerySet:
    """Held orders the user can see, oldest first, with what the customer owes now."""
    from django.db.models import OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from guanxi.sales.models import CreditApproval

    money = DecimalField(max_digits=16, decimal_places=2)
    billed = (Order.objects.filter(customer_id=OuterRef("customer_id"), status__in=BILLED_STATUSES).order_by()
              .values("customer_id").annotate(s=Sum("total")).values("s"))
    paid = Payment.objects.filter(customer_id=OuterRef("customer_id")).order_by().values("customer_id").annotate(s=Sum("amount")).values("s")
    queryset = CreditApproval.objects.filter(decision=CreditApproval.Decision.PENDING).select_related(
        "order", "customer", "requested_by")
    return visible_related(user, queryset).annotate(
        current_receivable=Coalesce(Subquery(billed, output_field=money), Value(ZERO), output_field=money)
        - Coalesce(Subquery(paid, output_field=money), Value(ZERO), output_field=money),
    ).order_by("created_at", "pk")


def pending_credit_count(user: User) -> int:
    from guanxi.sales.models import CreditApproval

    return visible_related(user, CreditApproval.objects.filter(decision=CreditApproval.Decision.PENDING)).count()


def open_collection_cases(user: User) -> QuerySet:
    from guanxi.sales.models import CollectionCase

    return visible_related(user, CollectionCase.objects.filter(closed_at__isnull=True).select_related("customer"))
