"""The customer timeline: one list, newest first, of everything that happened with a customer.

Sources: lifecycle state changes, customer events (edits, reassignment, opportunity moves,
deliveries, …), interactions, orders, payments and tasks. Each source is read with one query
(`ORDER BY time DESC LIMIT limit`, index on (customer, time) where the volume is high) and the
sorted lists are merged with heapq, so a page costs the same number of queries however long the
customer's history is.

Paging uses an opaque cursor "<iso time>~<kind>~<id>" (every item carries its own): the next
page holds the items strictly after it in (time, kind, id) order, so items sharing a timestamp
(common in imports) are neither lost nor repeated between pages.
"""

import datetime
import heapq
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core.visibility import visible_customers
from guanxi.customers.models import Customer, CustomerEvent, State, StateChange
from guanxi.engagement.models import Interaction, Task
from guanxi.sales.models import Order, Payment

MAX_LIMIT = 200


@dataclass(frozen=True)
class TimelineItem:
    kind: str  # state_change | event | interaction | order | payment | task
    at: datetime.datetime
    title: str
    detail: str
    actor: str | None
    ref: str  # "<kind>:<id>", for linking to the object
    id: int

    @property
    def cursor(self) -> str:
        return f"{self.at.isoformat()}~{self.kind}~{self.id}"


def _name(user) -> str | None:
    return str(user) if user is not None else None


def _state_change(row: StateChange) -> TimelineItem:
    labels = dict(State.choices)
    if row.from_state:
        title = _("State: %(from)s → %(to)s") % {"from": labels.get(row.from_state, row.from_state), "to": labels.get(row.to_state, row.to_state)}
    else:
        title = _("Created as %(state)s") % {"state": labels.get(row.to_state, row.to_state)}
    detail = " — ".join(filter(None, [str(row.get_reason_category_display()) if row.reason_category else "", row.reason]))
    return TimelineItem("state_change", row.changed_at, title, detail, _name(row.actor), f"state_change:{row.pk}", row.pk)


def _event(row: CustomerEvent) -> TimelineItem:
    return TimelineItem("event", row.occurred_at, row.summary or row.verb, "", _name(row.actor), f"event:{row.pk}", row.pk)


def _interaction(row: Interaction) -> TimelineItem:
    title = f"{row.get_channel_display()} ({row.get_direction_display()}): {row.subject}"
    return TimelineItem("interaction", row.occurred_at, title, row.body[:300], _name(row.actor), f"interaction:{row.pk}", row.pk)


def _order(row: Order) -> TimelineItem:
    title = _("Order %(number)s: %(total)s %(currency)s") % {"number": row.number, "total": row.total, "currency": row.currency}
    placed_by = row.created_by if row.created_by_id else row.owner  # imported orders know only the rep
    return TimelineItem("order", row.created_at, title, row.get_status_display(), _name(placed_by), f"order:{row.pk}", row.pk)


def _payment(row: Payment) -> TimelineItem:
    title = _("Payment received: %(amount)s %(currency)s") % {"amount": row.amount, "currency": row.currency}
    detail = row.order.number if row.order_id else _("On account")
    return TimelineItem("payment", row.created_at, title, detail, _name(row.recorded_by), f"payment:{row.pk}", row.pk)


def _task(row: Task) -> TimelineItem:
    title = _("Task: %(title)s") % {"title": row.title}
    return TimelineItem("task", row.created_at, title, row.get_status_display(), _name(row.created_by), f"task:{row.pk}", row.pk)


# kind → (queryset factory, time field, converter). The order of this table breaks ties.
SOURCES: dict[str, tuple[Callable[[int], QuerySet], str, Callable]] = {
    "state_change": (lambda c: StateChange.objects.filter(customer_id=c).select_related("actor"), "changed_at", _state_change),
    "event": (lambda c: CustomerEvent.objects.filter(customer_id=c).select_related("actor"), "occurred_at", _event),
    "interaction": (lambda c: Interaction.objects.filter(customer_id=c).select_related("actor"), "occurred_at", _interaction),
    "order": (lambda c: Order.objects.filter(customer_id=c).select_related("owner", "created_by"), "created_at", _order),
    "payment": (lambda c: Payment.objects.filter(customer_id=c).select_related("order", "recorded_by"), "created_at", _payment),
    "task": (lambda c: Task.objects.filter(customer_id=c).select_related("created_by"), "created_at", _task),
}
RANK = {kind: index for index, kind in enumerate(SOURCES)}


def parse_cursor(cursor: str) -> tuple[datetime.datetime, str, int]:
    try:
        at_text, kind, pk = cursor.replace(" ", "+").split("~")  # "+" arrives as a space when unencoded
        at = datetime.datetime.fromisoformat(at_text)
        if kind not in RANK or at.tzinfo is None or not 0 <= int(pk) < 2**63:
            raise ValueError
        return at, kind, int(pk)
    except (ValueError, AttributeError):
        raise ValidationError({"before": _("Not a timeline cursor.")}) from None


def _older_than(kind: str, time_field: str, cursor: tuple[datetime.datetime, str, int]) -> Q:
    """Rows of `kind` after the cursor in (time desc, rank desc, id desc) order."""
    at, cursor_kind, pk = cursor
    if RANK[kind] < RANK[cursor_kind]:
        return Q(**{f"{time_field}__lte": at})
    if RANK[kind] > RANK[cursor_kind]:
        return Q(**{f"{time_field}__lt": at})
    return Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, "pk__lt": pk})


def customer_timeline(user: User, customer: Customer | int, *, limit: int = 50,
                      before: str | datetime.datetime | None = None) -> list[TimelineItem]:
    """Up to `limit` items, newest first, strictly older than `before` (a cursor or a time).

    Raises Customer.DoesNotExist when the user may not see the customer.
    """
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    if not visible_customers(user).filter(pk=customer_id).exists():
        raise Customer.DoesNotExist(_("No such customer."))
    limit = max(1, min(int(limit), MAX_LIMIT))
    if isinstance(before, str):
        cursor = parse_cursor(before)
    elif isinstance(before, datetime.datetime):
        cursor = (before, next(iter(RANK)), 0)  # strictly older than that moment
    else:
        cursor = None
    streams: list[Iterator[TimelineItem]] = []
    for kind, (rows, time_field, convert) in SOURCES.items():
        queryset = rows(customer_id)
        if cursor is not None:
            queryset = queryset.filter(_older_than(kind, time_field, cursor))
        queryset = queryset.order_by(f"-{time_field}", "-pk")[:limit]
        streams.append(map(convert, queryset))
    merged = heapq.merge(*streams, key=lambda item: (item.at, RANK[item.kind], item.id), reverse=True)
    return list(itertools.islice(merged, limit))
