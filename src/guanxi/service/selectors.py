"""Every read of complaints and service records, starting from the customers the user may see."""

import datetime

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from guanxi.accounts.models import Role, User
from guanxi.core.visibility import sees_all_customers, visible_customers
from guanxi.service.models import Complaint, ComplaintStep, DefectAlert, Dissatisfaction


def visible_complaints(user: User) -> QuerySet:
    """Who sees which complaint. Roles that see every customer see every complaint, and so do managers:
    senior managers must see (and may take over) any case (DOMAIN.md §9). Sales reps see the complaints
    of customers they see and the cases they handle. Outside this set a complaint does not exist (404)."""
    queryset = Complaint.objects.all()
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if sees_all_customers(user) or user.role == Role.MANAGER:
        return queryset
    return queryset.filter(Q(customer_id__in=visible_customers(user).values("pk")) | Q(handler_id=user.pk))


def complaint_list(user: User, *, status: str | None = None, severity: str | None = None, category: str | None = None,
                   customer: int | None = None, open_only: bool = False, search: str | None = None) -> QuerySet:
    from guanxi.service.workflow import OPEN_STATUSES

    queryset = visible_complaints(user).select_related("customer", "handler", "department", "product")
    if status:
        queryset = queryset.filter(status=status)
    if open_only:
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    if severity:
        queryset = queryset.filter(severity=severity)
    if category:
        queryset = queryset.filter(category=category)
    if customer:
        queryset = queryset.filter(customer_id=customer)
    if search:
        term = search.strip()
        queryset = queryset.filter(Q(reference__icontains=term) | Q(contact_name__icontains=term) | Q(customer__name__icontains=term))
    return queryset.order_by("-received_at", "-id")


def complaint_detail(user: User, pk: int) -> Complaint:
    return get_object_or_404(
        visible_complaints(user).select_related("customer", "handler", "department", "product", "order", "cause",
                                                "approved_by", "taken_over_by", "backlog_item"),
        pk=pk,
    )


def complaint_steps(complaint: Complaint) -> QuerySet:
    return ComplaintStep.objects.filter(complaint=complaint).select_related("actor").order_by("at", "id")


def dissatisfaction_for(user: User, customer: int | None = None) -> QuerySet:
    queryset = Dissatisfaction.objects.filter(customer_id__in=visible_customers(user).values("pk")) if not sees_all_customers(user) else Dissatisfaction.objects.all()
    if customer:
        queryset = queryset.filter(customer_id=customer)
    return queryset.select_related("customer", "recorded_by", "product")


def open_defect_alerts() -> QuerySet:
    return DefectAlert.objects.filter(is_open=True).select_related("product", "cause")


def digest_figures(*, now: datetime.datetime | None = None) -> dict:
    """What senior managers read each morning."""
    from guanxi.service.services import count_breaches
    from guanxi.service.workflow import OPEN_STATUSES, UNRESOLVED_STATUSES

    now = now or timezone.now()
    since = now - datetime.timedelta(days=1)
    open_cases = Complaint.objects.filter(status__in=OPEN_STATUSES)
    return {
        "new": Complaint.objects.filter(received_at__gte=since, received_at__lt=now).count(),
        "open": open_cases.count(),
        "overdue": Complaint.objects.filter(status__in=UNRESOLVED_STATUSES, resolve_due_at__lt=now).count(),
        "escalated": open_cases.filter(escalations__isnull=False).values("pk").distinct().count(),
        "breaches": count_breaches(),
        "defect_alerts": list(open_defect_alerts().values_list("product__name", "cause__name", "complaint_count")),
        "oldest": list(Complaint.objects.filter(status__in=UNRESOLVED_STATUSES).order_by("received_at").values_list("reference", "received_at")[:5]),
    }


def complaint_emails(complaint: Complaint) -> QuerySet:
    from guanxi.messaging.models import OutboundEmail

    return OutboundEmail.objects.filter(about=f"complaint:{complaint.pk}").only("created_at", "subject", "status").order_by("created_at")


def service_tickets(user: User, *, customer: int | None = None, status: str | None = None) -> QuerySet:
    from guanxi.core.visibility import visible_related
    from guanxi.service.models import ServiceTicket

    queryset = visible_related(user, ServiceTicket.objects.all()).select_related("customer", "technician", "partner")
    if customer:
        queryset = queryset.filter(customer_id=customer)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def warranties(user: User, *, customer: int | None = None, ending_by: datetime.date | None = None) -> QuerySet:
    """Warranties of the customers `user` sees, soonest ending first."""
    from guanxi.core.visibility import visible_related
    from guanxi.service.models import Warranty

    queryset = visible_related(user, Warranty.objects.select_related("product")).order_by("ends_on", "pk")
    if customer:
        queryset = queryset.filter(customer_id=customer)
    if ending_by:
        queryset = queryset.filter(ends_on__lte=ending_by)
    return queryset


def search_articles(q: str, *, limit: int = 20) -> QuerySet:
    """Knowledge-base answers whose question, answer or keywords contain every word of `q`."""
    from guanxi.service.models import KnowledgeArticle

    queryset = KnowledgeArticle.objects.filter(is_published=True)
    for word in (q or "").split()[:5]:
        queryset = queryset.filter(Q(question__icontains=word) | Q(answer__icontains=word) | Q(keywords__icontains=word))
    return queryset.order_by("question")[:limit]
