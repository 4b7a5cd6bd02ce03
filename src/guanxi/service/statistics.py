"""Complaint statistics (DOMAIN.md §6–7): breakdowns, handling times, reopen rate, satisfaction with the
handling, 投诉率 per 1,000 customers, retention after a resolved complaint, promised vs actual
resolution, and first-response time on every inbound enquiry.

Aggregates run in SQL; per-complaint times are loaded as tuples (no model instances) for the
last `days` days and summarised with numpy. Times are business hours, as the SLA counts them.
"""

import datetime

import numpy as np
from django.db.models import Count, Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core.visibility import visible_customers, visible_related
from guanxi.customers.models import Customer
from guanxi.engagement.models import Direction, Interaction
from guanxi.sales.models import Order
from guanxi.service import sla
from guanxi.service.models import Category, Complaint, ComplaintStep, Dissatisfaction, Reaction
from guanxi.service.selectors import visible_complaints

MAX_ROWS = 50_000
RETENTION_REFERENCE_DAYS = 180


def _hours(delta: datetime.timedelta) -> float:
    return delta.total_seconds() / 3600


def _summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "median": None, "p90": None}
    array = np.asarray(values, dtype=float)
    return {"n": len(values), "median": round(float(np.median(array)), 1), "p90": round(float(np.percentile(array, 90)), 1)}


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _breakdown(queryset, field: str, labels: dict | None = None, empty=None) -> list[dict]:
    total = 0
    rows = []
    for row in queryset.values(field).annotate(n=Count("pk")).order_by("-n")[:20]:
        key = row[field]
        label = (labels or {}).get(key, key) if key not in (None, "") else (empty or _("Not recorded"))
        rows.append({"label": str(label), "value": row["n"]})
        total += row["n"]
    for row in rows:
        row["rate"] = _rate(row["value"], total)
    return rows


def first_response_times(user: User, *, since: datetime.datetime) -> dict:
    """For every inbound enquiry since `since`: hours until the next outbound contact with that customer."""
    reply = Interaction.objects.filter(
        customer_id=OuterRef("customer_id"), direction=Direction.OUTBOUND, occurred_at__gte=OuterRef("occurred_at"),
    ).order_by("occurred_at").values("occurred_at")[:1]
    inbound = visible_related(user, Interaction.objects.filter(direction=Direction.INBOUND, occurred_at__gte=since))
    rows = list(inbound.annotate(replied_at=Subquery(reply)).values_list("occurred_at", "replied_at")[:MAX_ROWS])
    answered = [_hours(sla.business_time_between(asked, replied)) for asked, replied in rows if replied is not None]
    return {**_summary(answered), "enquiries": len(rows), "unanswered": len(rows) - len(answered)}


def complaint_customers(user: User):
    """The customers the complaints are counted against: all of them for those who see every complaint."""
    from guanxi.accounts.models import Role
    from guanxi.core.visibility import sees_all_customers

    if sees_all_customers(user) or (user.is_active and user.role == Role.MANAGER):
        return Customer.objects.all()
    return visible_customers(user)


def _retention(user: User, complaints, now: datetime.datetime) -> dict:
    """Share of buyers who bought again after a reference date: the resolution date for resolved
    complainers, a fixed date RETENTION_REFERENCE_DAYS ago for customers who never complained."""
    customers = complaint_customers(user)
    # One query: each complainer's first resolution, and whether a (not cancelled) order followed it.
    resolved_cases = complaints.filter(resolved_at__isnull=False)
    first_resolved = resolved_cases.filter(customer_id=OuterRef("pk")).order_by("resolved_at").values("resolved_at")[:1]
    complainers = (Customer.objects.filter(pk__in=resolved_cases.values("customer_id"))
                   .annotate(at=Subquery(first_resolved))
                   .annotate(kept=Exists(Order.objects.filter(customer_id=OuterRef("pk"), created_at__gt=OuterRef("at"))
                                         .exclude(status=Order.Status.CANCELLED))))
    flags = list(complainers.values_list("kept", flat=True)[:MAX_ROWS])
    resolved, kept = flags, sum(flags)
    reference = now - datetime.timedelta(days=RETENTION_REFERENCE_DAYS)
    never = customers.filter(~Exists(Complaint.objects.filter(customer_id=OuterRef("pk"))),
                             Exists(Order.objects.filter(customer_id=OuterRef("pk"), created_at__lte=reference)))
    never_total = never.count()
    never_kept = never.filter(Exists(Order.objects.filter(customer_id=OuterRef("pk"), created_at__gt=reference)
                                     .exclude(status=Order.Status.CANCELLED))).count()
    return {"resolved_complainers": len(resolved), "resolved_retained": _rate(kept, len(resolved)),
            "never_complained": never_total, "never_retained": _rate(never_kept, never_total)}


def complaint_statistics(user: User, *, days: int = 365, now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    since = now - datetime.timedelta(days=days)
    complaints = visible_complaints(user).filter(received_at__gte=since)
    rows = list(complaints.values_list("received_at", "acknowledged_at", "resolved_at", "resolve_due_at", "reopen_count",
                                       "handling_rating", "customer_id")[:MAX_ROWS])
    total = len(rows)
    acknowledge = [_hours(sla.business_time_between(r[0], r[1])) for r in rows if r[1]]
    resolve = [_hours(sla.business_time_between(r[0], r[2])) for r in rows if r[2]]
    promised = [_hours(sla.business_time_between(r[0], r[3])) for r in rows if r[2] and r[3]]
    on_time = sum(1 for r in rows if r[2] and r[3] and r[2] <= r[3])
    ratings = [r[5] for r in rows if r[5]]
    notified = complaints.filter(Exists(ComplaintStep.objects.filter(complaint_id=OuterRef("pk"), action="notify_customer"))).count()
    reopened = sum(1 for r in rows if r[4])
    customer_count = complaint_customers(user).count()
    complainers = len({r[6] for r in rows if r[6]})
    months: dict[str, int] = {}
    for r in rows:
        key = timezone.localtime(r[0]).strftime("%Y-%m")
        months[key] = months.get(key, 0) + 1
    dissatisfied = visible_related(user, Dissatisfaction.objects.filter(observed_at__gte=since))
    return {
        "days": days, "total": total,
        "by_category": _breakdown(complaints, "category", dict(Category.choices)),
        "by_cause": _breakdown(complaints, "cause__name"),
        "by_product": _breakdown(complaints, "product__name"),
        "by_region": _breakdown(complaints, "customer__province"),
        "by_department": _breakdown(complaints, "department__name"),
        "by_channel": _breakdown(complaints, "channel", dict(_channel_labels())),
        "by_month": [{"label": k, "value": months[k]} for k in sorted(months)],
        "acknowledge_hours": _summary(acknowledge),
        "resolve_hours": _summary(resolve),
        "promised_hours": _summary(promised),
        "resolved_on_time": _rate(on_time, len(promised)),
        "reopen_rate": _rate(reopened, notified),
        "handling_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "handling_satisfied": _rate(sum(1 for r in ratings if r >= 4), len(ratings)),
        "ratings": len(ratings),
        "per_thousand_customers": round(1000 * total / customer_count, 1) if customer_count else None,
        "complainers_per_thousand": round(1000 * complainers / customer_count, 1) if customer_count else None,
        "customers": customer_count,
        "retention": _retention(user, visible_complaints(user), now),
        "first_response": first_response_times(user, since=now - datetime.timedelta(days=min(days, 90))),
        "dissatisfaction": dissatisfied.count(),
        "dissatisfaction_by_reaction": _breakdown(dissatisfied, "reaction", dict(Reaction.choices)),
    }


def _channel_labels():
    from guanxi.engagement.models import Channel

    return Channel.choices


def charts(figures: dict) -> list[dict]:
    """Chart specs for web/dashboard_chart.html (drawn by charts.js from json_script)."""
    spec = [
        ("by-month", _("Complaints per month"), "line", figures["by_month"]),
        ("by-category", _("By category"), "pie", figures["by_category"]),
        ("by-channel", _("By channel"), "bar", figures["by_channel"]),
        ("by-product", _("By product"), "bar", figures["by_product"]),
    ]
    return [{"key": key, "title": title, "chart_id": f"chart-{key}",
             "chart": {"kind": kind, "series_name": _("Complaints"), "rows": [{"label": r["label"], "value": r["value"]} for r in rows]}}
            for key, title, kind, rows in spec]
