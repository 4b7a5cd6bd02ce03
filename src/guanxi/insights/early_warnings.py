"""Early-warning evaluators (预警, DOMAIN.md §3; issue 6): each returns unsaved Warning rows.

Every evaluator reads in bulk and names its warnings by a `key` of subject and period, so that
evaluate_warnings (services) can insert them with ignore_conflicts and a rerun never duplicates.
Boundaries: each condition is strict where the text says "over"/"above"/"below" and inclusive where
it says "passing"/"reaching"; the tests pin every one.
"""

import datetime
from decimal import Decimal

from django.db.models import Case, DecimalField, ExpressionWrapper, F, FloatField, Max, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.models import Customer, State, StateChange
from guanxi.insights.defaults import DEFAULT_RULE_PARAMETERS
from guanxi.insights.models import CustomerScore, ServicePolicy, Warning, WarningKind, WarningRule
from guanxi.sales.models import ExpenseBudget, Order, OrderLine, Payment, SalesExpense, SalesPlan
from guanxi.sales.selectors import BILLED_STATUSES

MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0.00")


def rule_parameters(kind: str) -> dict | None:
    """The rule's parameters over the defaults, or None when an administrator switched it off."""
    rule = WarningRule.objects.filter(kind=kind).first()
    if rule is not None and not rule.enabled:
        return None
    return {**DEFAULT_RULE_PARAMETERS.get(kind, {}), **(rule.parameters if rule else {})}


def _month(day: datetime.date) -> str:
    return f"{day:%Y-%m}"


def _quarter(day: datetime.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _owners(customer_ids) -> dict[int, int | None]:
    return dict(Customer.objects.filter(pk__in=list(customer_ids)).values_list("pk", "owner_id"))


def receivables_by_customer(queryset=None):
    """Customers annotated with `receivable` = billed orders − payments (what they owe now)."""
    billed = (Order.objects.filter(customer_id=OuterRef("pk"), status__in=BILLED_STATUSES).order_by()
              .values("customer_id").annotate(s=Sum("total")).values("s"))
    paid = Payment.objects.filter(customer_id=OuterRef("pk")).order_by().values("customer_id").annotate(s=Sum("amount")).values("s")
    return (queryset if queryset is not None else Customer.objects.all()).annotate(
        receivable=Coalesce(Subquery(billed, output_field=MONEY), Value(ZERO), output_field=MONEY)
        - Coalesce(Subquery(paid, output_field=MONEY), Value(ZERO), output_field=MONEY),
    )


# --- 1. receivables over the credit limit ---------------------------------------------------------

def credit_limit(as_of: datetime.date, params: dict, customers=None) -> list[Warning]:
    """Receivables strictly above a granted (non-zero) credit limit; once a month per customer.
    `customers` narrows it (the live check after an order or a payment passes one customer)."""
    base = Customer.objects.all() if customers is None else customers
    over = receivables_by_customer(base.filter(credit_limit__gt=0)).filter(receivable__gt=F("credit_limit"))
    return [
        Warning(kind=WarningKind.CREDIT_LIMIT, key=f"c{c.pk}:{_month(as_of)}", customer_id=c.pk, assignee_id=c.owner_id,
                message=_("Receivables %(owed)s exceed the credit limit %(limit)s.") % {"owed": c.receivable, "limit": c.credit_limit},
                suggestion=_("Collect the receivable; new orders need a manager's approval."),
                data={"receivable": str(c.receivable), "credit_limit": str(c.credit_limit)})
        for c in over.only("pk", "owner_id", "credit_limit")
    ]


# --- 2. sales pace behind plan ------------------------------------------------------------------------

def sales_pace(as_of: datetime.date, params: dict) -> list[Warning]:
    """Actual sales below (1 − tolerance) × the plan's target pro rata to the days elapsed."""
    tolerance = Decimal(str(params["tolerance"]))
    found = []
    for plan in SalesPlan.objects.filter(period_start__lte=as_of, period_end__gte=as_of).select_related("customer"):
        days = (plan.period_end - plan.period_start).days + 1
        elapsed = (as_of - plan.period_start).days + 1
        expected = (plan.target * elapsed / days).quantize(Decimal("0.01"))
        orders = Order.objects.filter(status__in=BILLED_STATUSES, order_date__gte=plan.period_start, order_date__lte=as_of)
        if plan.owner_id:
            orders = orders.filter(owner_id=plan.owner_id)
        if plan.customer_id:
            orders = orders.filter(customer_id=plan.customer_id)
        actual = orders.aggregate(s=Sum("total"))["s"] or ZERO
        if actual < expected * (1 - tolerance):
            found.append(Warning(
                kind=WarningKind.SALES_PACE, key=f"plan{plan.pk}:{_month(as_of)}", customer_id=plan.customer_id,
                subject_user_id=plan.owner_id, assignee_id=plan.owner_id or (plan.customer.owner_id if plan.customer else None),
                message=_("Sales %(actual)s are behind plan: %(expected)s expected by now (%(elapsed)d of %(days)d days).")
                % {"actual": actual, "expected": expected, "elapsed": elapsed, "days": days},
                suggestion=_("Review the pipeline and plan visits to close the gap."),
                data={"actual": str(actual), "expected": str(expected), "target": str(plan.target)}))
    return found


# --- 3. sales expenses over budget or climbing --------------------------------------------------------

def expenses(as_of: datetime.date, params: dict) -> list[Warning]:
    """Spending strictly over an active budget; or the last 30 days strictly above (1 + climb_rate) ×
    the average of the `months` 30-day windows before, and at least `min_amount` (per customer and per rep)."""
    found = []
    for budget in ExpenseBudget.objects.filter(period_start__lte=as_of, period_end__gte=as_of).select_related("customer"):
        spent = SalesExpense.objects.filter(spent_on__gte=budget.period_start, spent_on__lte=as_of)
        if budget.owner_id:
            spent = spent.filter(owner_id=budget.owner_id)
        if budget.customer_id:
            spent = spent.filter(customer_id=budget.customer_id)
        total = spent.aggregate(s=Sum("amount"))["s"] or ZERO
        if total > budget.amount:
            found.append(Warning(
                kind=WarningKind.EXPENSES, key=f"budget{budget.pk}", customer_id=budget.customer_id,
                subject_user_id=budget.owner_id,
                assignee_id=budget.owner_id or (budget.customer.owner_id if budget.customer else None),
                message=_("Sales expenses %(spent)s are over the budget of %(budget)s.") % {"spent": total, "budget": budget.amount},
                suggestion=_("Put new orders for this customer on hold until the spending is reviewed."),
                data={"spent": str(total), "budget": str(budget.amount)}))
    months, rate = int(params["months"]), Decimal(str(params["climb_rate"]))
    minimum = Decimal(str(params["min_amount"]))
    recent_from = as_of - datetime.timedelta(days=29)
    before_from = recent_from - datetime.timedelta(days=30 * months)
    window = SalesExpense.objects.filter(spent_on__gte=before_from, spent_on__lte=as_of).order_by()
    sums = {"recent": Sum("amount", filter=Q(spent_on__gte=recent_from)),
            "before": Sum("amount", filter=Q(spent_on__lt=recent_from))}
    for field, prefix in (("customer_id", "c"), ("owner_id", "r")):
        for row in window.exclude(**{f"{field}__isnull": True}).values(field).annotate(**sums).filter(recent__gte=minimum):
            average = (row["before"] or ZERO) / months
            if row["recent"] > average * (1 + rate):
                subject = row[field]
                found.append(Warning(
                    kind=WarningKind.EXPENSES, key=f"{prefix}{subject}:climb:{_month(as_of)}",
                    customer_id=subject if prefix == "c" else None, subject_user_id=subject if prefix == "r" else None,
                    assignee_id=subject if prefix == "r" else None,
                    message=_("Sales expenses climbed to %(recent)s in 30 days against %(average)s a month before.")
                    % {"recent": row["recent"], "average": average.quantize(Decimal("0.01"))},
                    suggestion=_("Review the spending; new orders for the customer can be put on hold."),
                    data={"recent": str(row["recent"]), "monthly_average": str(average.quantize(Decimal("0.01")))}))
    for warning in found:
        if warning.customer_id and warning.assignee_id is None:
            warning.assignee_id = _owners([warning.customer_id]).get(warning.customer_id)
    return found


# --- 4. churn risk and lost customers ------------------------------------------------------------------

def churn_risk(as_of: datetime.date, params: dict) -> list[Warning]:
    """Customers (not yet lost) in the current run with P(alive) strictly below the threshold, or whose time
    since the last purchase is strictly more than gap_factor × their usual interval (with at least
    min_orders purchase days). Only customers who ordered within recent_days, and whose current grade is
    in `grades` (key and normal by default: the ones whose loss costs the firm), are warned about: a
    warning is early and worth a call, or it is noise (100k demo as of its last day: 16,040 warnings
    over every grade, 11,004 over key and normal). Customers who bought only one-off products have no
    P(alive) and are left out. Once per customer and last purchase: a new order resets it."""
    threshold, gap = float(params["p_alive_below"]), float(params["gap_factor"])
    repeat = max(int(params["min_orders"]) - 1, 1)
    # days since last > gap × recency / frequency, multiplied out: no division by a zero frequency
    overdue = ExpressionWrapper((F("age_days") - F("recency_days")) * F("frequency") - gap * F("recency_days"),
                                output_field=FloatField())
    recent = as_of - datetime.timedelta(days=int(params["recent_days"]))
    scores = (CustomerScore.objects.filter(run__is_current=True, p_alive__isnull=False, last_order_on__gte=recent,
                                           grade__in=list(params["grades"]))
              .exclude(customer__state=State.LOST)
              .alias(overdue=overdue)
              .filter(Q(p_alive__lt=threshold) | Q(frequency__gte=repeat, overdue__gt=0))
              .values_list("customer_id", "customer__owner_id", "p_alive", "last_order_on", "recency_days", "age_days", "frequency"))
    found = []
    for customer_id, owner_id, p_alive, last, recency, age, frequency in scores:
        usual = recency / frequency if frequency else None
        found.append(Warning(
            kind=WarningKind.CHURN_RISK, key=f"c{customer_id}:{last}", customer_id=customer_id, assignee_id=owner_id,
            message=_("Churn risk: P(alive) %(p).0f%%, last order %(last)s.") % {"p": 100 * p_alive, "last": last},
            suggestion=_("Call the customer and find out why they stopped ordering."),
            data={"p_alive": p_alive, "days_since_last": age - recency, "usual_interval_days": usual}))
    return found


def lost(as_of: datetime.date, params: dict) -> list[Warning]:
    """Customers moved to "lost" within the last lookback_days."""
    since = as_of - datetime.timedelta(days=int(params["lookback_days"]))
    moves = StateChange.objects.filter(to_state=State.LOST, changed_at__date__gte=since, changed_at__date__lte=as_of)
    return [
        Warning(kind=WarningKind.LOST, key=f"c{customer_id}:lost:{pk}", customer_id=customer_id, assignee_id=owner_id,
                message=_("The customer was moved to lost: %(reason)s") % {"reason": reason or "—"},
                suggestion=_("Record why they left and plan a win-back.")[:300])
        for pk, customer_id, owner_id, reason in moves.values_list("pk", "customer_id", "customer__owner_id", "reason")
    ]


# --- 5. cumulative purchases passing a threshold -----------------------------------------------------------

def cumulative_purchases(as_of: datetime.date, params: dict) -> list[Warning]:
    """Revenue to date reaching a threshold (≥) within the last lookback_days (it was below it
    before): the highest one passed, once per customer and threshold (seed 000: prompt an offer)."""
    thresholds = sorted(Decimal(str(t)) for t in params["thresholds"])
    if not thresholds:
        return []
    before = as_of - datetime.timedelta(days=int(params["lookback_days"]))
    totals = (Order.objects.filter(status__in=BILLED_STATUSES, order_date__lte=as_of).order_by().values("customer_id")
              .annotate(s=Sum("total"), b=Coalesce(Sum("total", filter=Q(order_date__lte=before)), Value(ZERO), output_field=MONEY))
              .filter(s__gte=thresholds[0]).values_list("customer_id", "customer__owner_id", "s", "b"))
    found = []
    for customer_id, owner_id, total, earlier in totals:
        passed = [t for t in thresholds if earlier < t <= total]
        if passed:
            found.append(Warning(
                kind=WarningKind.CUMULATIVE_PURCHASES, key=f"c{customer_id}:t{passed[-1]}", customer_id=customer_id,
                assignee_id=owner_id,
                message=_("Cumulative purchases %(total)s passed %(threshold)s.") % {"total": total, "threshold": passed[-1]},
                suggestion=_("Thank the customer with an offer or reward."),
                data={"total": str(total), "threshold": str(passed[-1])}))
    return found


# --- 6. products due for replacement -----------------------------------------------------------------------

def replacement_due(as_of: datetime.date, params: dict) -> list[Warning]:
    """A product with a replacement cycle whose last purchase + cycle − lead_days has been reached (≥),
    and is at most max_overdue_days past due; once per customer, product and purchase."""
    lead, overdue = int(params["lead_days"]), int(params["max_overdue_days"])
    rows = (OrderLine.objects.filter(product__replacement_cycle_days__isnull=False, order__status__in=BILLED_STATUSES,
                                     order__order_date__lte=as_of)
            .order_by().values("order__customer_id", "product_id")
            .annotate(last=Max("order__order_date"))
            .values_list("order__customer_id", "product_id", "last", "product__replacement_cycle_days", "product__name",
                         "order__customer__owner_id"))
    found = []
    for customer_id, product_id, last, cycle, name, owner_id in rows:
        due = last + datetime.timedelta(days=cycle)
        if due - datetime.timedelta(days=lead) <= as_of <= due + datetime.timedelta(days=overdue):
            found.append(Warning(
                kind=WarningKind.REPLACEMENT_DUE, key=f"c{customer_id}:p{product_id}:{last}", customer_id=customer_id,
                assignee_id=owner_id,
                message=_("%(product)s bought on %(last)s is due for replacement on %(due)s.")
                % {"product": name, "last": last, "due": due},
                suggestion=_("Offer a replacement or an upgrade."),
                data={"product_id": product_id, "last_purchase": str(last), "due": str(due)}))
    return found


# --- 7. big-account risk -------------------------------------------------------------------------------------

def big_account_risk(as_of: datetime.date, params: dict) -> list[Warning]:
    """For customers graded in `grades` by the current run: an unpaid order strictly more than
    late_days_over_terms past its due date; an average discount strictly above the norm; or a share
    of revenue strictly above revenue_share_above, over the last `months` months."""
    big = dict(CustomerScore.objects.filter(run__is_current=True, grade__in=params["grades"])
               .values_list("customer_id", "customer__owner_id"))
    if not big:
        return []
    since = as_of - datetime.timedelta(days=round(30.4375 * int(params["months"])))
    quarter = _quarter(as_of)
    found = []

    def warn(customer_id, aspect, message, suggestion, data):
        found.append(Warning(kind=WarningKind.BIG_ACCOUNT_RISK, key=f"c{customer_id}:{aspect}:{quarter}",
                             customer_id=customer_id, assignee_id=big[customer_id], message=message,
                             suggestion=suggestion, data={"aspect": aspect, **data}))

    late_cutoff = as_of - datetime.timedelta(days=int(params["late_days_over_terms"]))
    late = (Order.objects.filter(customer_id__in=list(big), status__in=BILLED_STATUSES, due_date__lt=late_cutoff,
                                 total__gt=F("amount_paid"))
            .order_by().values_list("customer_id", flat=True).distinct())
    for customer_id in late:
        warn(customer_id, "late_payment", _("Payments run more than %(days)s days past the agreed terms.") % {"days": params["late_days_over_terms"]},
             _("Shorten terms or ask for prepayment (financial risk)."), {})
    recent = Order.objects.filter(status__in=BILLED_STATUSES, order_date__gt=since, order_date__lte=as_of).order_by()
    grand = recent.aggregate(s=Sum("total"))["s"] or ZERO
    norm, share_limit = Decimal(str(params["discount_rate_above"])), Decimal(str(params["revenue_share_above"]))
    for customer_id, revenue, discount in (recent.filter(customer_id__in=list(big)).values("customer_id")
                                           .annotate(r=Sum("total"), d=Sum("discount_total")).values_list("customer_id", "r", "d")):
        listed = revenue + discount
        if listed > 0 and discount / listed > norm:
            warn(customer_id, "discount", _("Average discount %(rate).1f%% is above the norm.") % {"rate": 100 * discount / listed},
                 _("Review the discounts and rebates given (profit risk)."), {"discount_rate": str((discount / listed).quantize(Decimal("0.0001")))})
        if grand > 0 and revenue / grand > share_limit:
            warn(customer_id, "concentration", _("%(share).1f%% of revenue comes from this customer.") % {"share": 100 * revenue / grand},
                 _("Reduce dependence: develop other customers (churn risk)."), {"revenue_share": str((revenue / grand).quantize(Decimal("0.0001")))})
    return found


# --- service policy: contact overdue ------------------------------------------------------------------------

def contact_overdue(as_of: datetime.date, params: dict) -> list[Warning]:
    """Customers whose service policy asks for contact every N days, last contacted strictly more than
    N days ago (or never); once per customer and last contact."""
    from guanxi.engagement.models import Interaction

    policies = {(p.grade, p.with_potential): p.contact_every_days
                for p in ServicePolicy.objects.filter(contact_every_days__isnull=False)}
    if not policies:
        return []
    last = Interaction.objects.filter(customer_id=OuterRef("customer_id")).order_by("-occurred_at").values("occurred_at")[:1]
    scores = (CustomerScore.objects.filter(run__is_current=True, grade__in={g for g, _p in policies})
              .annotate(last_contact=Subquery(last),
                        potential=Case(When(customer__upgrade_potential="none", then=Value(False)), default=Value(True)))
              .values_list("customer_id", "customer__owner_id", "grade", "potential", "last_contact"))
    found = []
    for customer_id, owner_id, grade, potential, last_contact in scores:
        last_contact = timezone.localtime(last_contact).date() if last_contact else None
        every = policies.get((grade, bool(potential)))
        if every is None:
            continue
        if last_contact is not None and (as_of - last_contact).days <= every:
            continue
        found.append(Warning(
            kind=WarningKind.CONTACT_OVERDUE, key=f"c{customer_id}:contact:{last_contact or 'never'}",
            customer_id=customer_id, assignee_id=owner_id,
            message=_("No contact for more than %(days)d days, as this customer's service policy asks.") % {"days": every},
            suggestion=_("Get in touch.")))
    return found


EVALUATORS = {
    WarningKind.CREDIT_LIMIT: credit_limit,
    WarningKind.SALES_PACE: sales_pace,
    WarningKind.EXPENSES: expenses,
    WarningKind.CHURN_RISK: churn_risk,
    WarningKind.LOST: lost,
    WarningKind.CUMULATIVE_PURCHASES: cumulative_purchases,
    WarningKind.REPLACEMENT_DUE: replacement_due,
    WarningKind.BIG_ACCOUNT_RISK: big_account_risk,
    WarningKind.CONTACT_OVERDUE: contact_overdue,
}
