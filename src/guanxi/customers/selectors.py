"""Every read of customers and what hangs off them; each starts from visible_customers(user)."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core.visibility import visible_customers, visible_related
from guanxi.customers.models import (
    Attachment,
    Contact,
    Customer,
    CustomerEvent,
    ImportantDate,
    LeadSource,
    State,
    StateChange,
    Tag,
)
from guanxi.customers.search import search_customers

# What a list may be sorted by; the id breaks ties so pages never overlap.
ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "state": ("state", "-created_at", "-id"),
    "completeness": ("completeness", "id"),
    "-completeness": ("-completeness", "-id"),
}
DEFAULT_ORDERING = "-created_at"
STALE_AFTER_DAYS = 365


def _list_shape(queryset: QuerySet) -> QuerySet:
    """What a list row shows, in a constant number of queries whatever the page size."""
    return queryset.select_related("owner", "team").prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))


def customer_list(user: User, *, state: str | None = None, owner: int | None = None, tag: str | None = None,
                  source: str | None = None, search: str | None = None, ordering: str | None = None) -> QuerySet:
    """Visible customers, filtered, searched (the one search selector) and ordered."""
    queryset = search_customers(user, search or "")
    if state:
        if state not in State.values:
            raise ValidationError({"state": _("Unknown state.")})
        queryset = queryset.filter(state=state)
    if owner:
        queryset = queryset.filter(owner_id=owner)
    if source:
        if source not in LeadSource.values:
            raise ValidationError({"source": _("Unknown lead source.")})
        queryset = queryset.filter(source=source)
    if tag:
        queryset = queryset.filter(pk__in=Customer.tags.through.objects.filter(tag__name=tag).values("customer_id"))
    ordering = ordering or DEFAULT_ORDERING
    if ordering not in ORDERINGS:
        raise ValidationError({"ordering": _("Sort by one of: %(choices)s.") % {"choices": ", ".join(ORDERINGS)}})
    return _list_shape(queryset.order_by(*ORDERINGS[ordering]))


def customer_detail(user: User, pk: int) -> Customer:
    """One visible customer with what its page shows; Http404 when it is not visible."""
    queryset = visible_customers(user).select_related("owner", "team", "referred_by", "referrer").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"))
    )
    return get_object_or_404(queryset, pk=pk)


def state_history(user: User, customer_pk: int) -> QuerySet:
    """Every move between lifecycle states, newest first."""
    customer = get_object_or_404(visible_customers(user).only("pk"), pk=customer_pk)
    return StateChange.objects.filter(customer=customer).select_related("actor").order_by("-changed_at", "-id")


def customer_events(user: User, customer_pk: int) -> QuerySet:
    customer = get_object_or_404(visible_customers(user).only("pk"), pk=customer_pk)
    return CustomerEvent.objects.filter(customer=customer).select_related("actor")


def customer_contacts(user: User, customer_pk: int) -> QuerySet:
    customer = get_object_or_404(visible_customers(user).only("pk"), pk=customer_pk)
    return Contact.objects.filter(customer=customer)


def contact_detail(user: User, pk: int) -> Contact:
    return get_object_or_404(visible_related(user, Contact.objects.select_related("customer")), pk=pk)


def customer_attachments(user: User, customer_pk: int) -> QuerySet:
    customer = get_object_or_404(visible_customers(user).only("pk"), pk=customer_pk)
    return Attachment.objects.filter(customer=customer).select_related("uploaded_by")


def attachment_detail(user: User, pk: int) -> Attachment:
    """An attachment only if its customer is visible to `user` (else 404 — the file is not served)."""
    return get_object_or_404(visible_related(user, Attachment.objects.select_related("customer")), pk=pk)


def important_dates(user: User, customer_pk: int) -> QuerySet:
    customer = get_object_or_404(visible_customers(user).only("pk"), pk=customer_pk)
    return ImportantDate.objects.filter(customer=customer)


def tags_in_use(user: User) -> QuerySet:
    """Tags with how many visible customers carry each."""
    visible_ids = visible_customers(user).values("pk")
    return Tag.objects.annotate(customer_count=Count("customers", filter=Q(customers__in=visible_ids))).order_by("name")


def referred_customers(user: User, customer: Customer, *, max_depth: int = 5) -> list[tuple[Customer, int]]:
    """Whom `customer` referred, directly (depth 1) and indirectly, breadth-first up to `max_depth`.

    One query per level; a cycle cannot loop because each customer is visited once. Customers the
    user cannot see are walked through (they link the chain) but not returned.
    """
    found: list[tuple[int, int]] = []
    seen = {customer.pk}
    frontier = [customer.pk]
    for depth in range(1, max_depth + 1):
        if not frontier:
            break
        children = [pk for pk in Customer.objects.filter(referred_by_id__in=frontier).values_list("pk", flat=True) if pk not in seen]
        seen.update(children)
        found.extend((pk, depth) for pk in children)
        frontier = children
    depth_of = dict(found)
    visible = visible_customers(user).filter(pk__in=list(depth_of)).select_related("owner")
    return sorted(((c, depth_of[c.pk]) for c in visible), key=lambda pair: (pair[1], pair[0].name, pair[0].pk))


def stale_profiles(user: User, *, days: int = STALE_AFTER_DAYS, owner: int | None = None) -> QuerySet:
    """Visible customers never verified or last verified more than `days` ago, least recently verified first."""
    cutoff = timezone.now() - timedelta(days=days)
    queryset = visible_customers(user).filter(Q(last_verified_at__isnull=True) | Q(last_verified_at__lt=cutoff))
    if owner:
        queryset = queryset.filter(owner_id=owner)
    return queryset.select_related("owner").order_by("owner_id", "last_verified_at", "id")


def stale_profile_counts(user: User, *, days: int = STALE_AFTER_DAYS) -> list[dict]:
    """How many stale profiles each owner has, most first: the "stale profiles per owner" list."""
    cutoff = timezone.now() - timedelta(days=days)
    return list(
        visible_customers(user)
        .filter(Q(last_verified_at__isnull=True) | Q(last_verified_at__lt=cutoff))
        .values("owner_id", "owner__username")
        .annotate(stale=Count("pk"))
        .order_by("-stale", "owner_id")
    )
