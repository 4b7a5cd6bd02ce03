"""Every write of customer care: rules, opt-outs, the daily application of rules, incident notices.

`apply_care_rules(day)` is idempotent: each (rule, customer, occurrence) is a CareFiring row under a
unique constraint, inserted with bulk_create(ignore_conflicts=True); tasks and e-mails are created
for a firing only by whoever flips its `processed_at` from NULL. Rerunning a day, catching up after
downtime, or two workers at once never greet a customer twice.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import Role, User
from guanxi.care import calendar
from guanxi.care.models import CareFiring, CareOptOut, CareRule, IncidentNotice, IncidentRecipient
from guanxi.customers.models import Customer, CustomerEvent, CustomerType, State
from guanxi.engagement import services as engagement
from guanxi.messaging.services import queue_email
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.sales.services import clean_choice, clean_text, ensure_can_edit_customer

BATCH = 5_000


def _ensure_manager(actor: User) -> None:
    if not actor.is_active or not (actor.is_superuser or actor.role in (Role.ADMIN, Role.MANAGER)):
        raise PermissionDenied(_("Only managers and administrators set up care rules."))


def create_care_rule(*, actor: User, name: str, kind: str, holiday: str = "", days_before: int = 0, days_after: int = 0,
                     interval_days: int | None = None, customer_type: str = "", current_only: bool = True,
                     create_task: bool = True, send_email: bool = False, message: str = "") -> CareRule:
    _ensure_manager(actor)
    kind = clean_choice(kind, "kind", CareRule.Kind)
    if kind == CareRule.Kind.HOLIDAY:
        holiday = clean_choice(holiday, "holiday", CareRule.Holiday)
    elif holiday:
        raise ValidationError({"holiday": _("Only holiday rules name a holiday.")})
    if kind == CareRule.Kind.PERIODIC_VISIT and not (interval_days and 1 <= interval_days <= 3650):
        raise ValidationError({"interval_days": _("Give the interval in days (1–3650).")})
    for field, value in (("days_before", days_before), ("days_after", days_after)):
        if not 0 <= value <= 365:
            raise ValidationError({field: _("Between 0 and 365 days.")})
    if customer_type:
        clean_choice(customer_type, "customer_type", CustomerType)
    if not (create_task or send_email):
        raise ValidationError({"create_task": _("A rule creates a task, sends an e-mail, or both.")})
    with transaction.atomic():
        return CareRule.objects.create(
            name=clean_text(name, "name", 100, required=True), kind=kind, holiday=holiday, days_before=days_before,
            days_after=days_after, interval_days=interval_days, customer_type=customer_type, current_only=current_only,
            create_task=create_task, send_email=send_email, message=clean_text(message, "message", 5_000), created_by=actor,
        )


def opt_out_of_care(*, customer: Customer, actor: User, reason: str = "") -> CareOptOut:
    ensure_can_edit_customer(actor, customer)
    with transaction.atomic():
        opt_out, _created = CareOptOut.objects.get_or_create(
            customer=customer, defaults={"reason": clean_text(reason, "reason", 300), "recorded_by": actor})
        CustomerEvent.objects.create(customer=customer, verb="care_opt_out", actor=actor, summary=_("Opted out of care contact"))
    return opt_out


def opt_back_in(*, customer: Customer, actor: User) -> None:
    ensure_can_edit_customer(actor, customer)
    with transaction.atomic():
        CareOptOut.objects.filter(customer=customer).delete()
        CustomerEvent.objects.create(customer=customer, verb="care_opt_in", actor=actor, summary=_("Opted back in to care contact"))


# --- Which customers a rule reaches on a day --------------------------------------------------------

def _audience(rule: CareRule):
    customers = Customer.objects.filter(~Exists(CareOptOut.objects.filter(customer_id=OuterRef("pk"))))
    if rule.current_only:
        customers = customers.filter(state=State.CURRENT)
    if rule.customer_type:
        customers = customers.filter(customer_type=rule.customer_type)
    return customers


def due_occurrences(rule: CareRule, day: datetime.date) -> list[tuple[int, datetime.date]]:
    """(customer id, occurrence) pairs the rule fires for on `day`."""
    audience = _audience(rule)
    kind = rule.Kind
    if rule.kind == kind.HOLIDAY:
        occurrence = calendar.holiday_occurrence(rule.holiday, day, rule.days_before)
        if occurrence is None:
            return []
        return [(pk, occurrence) for pk in audience.values_list("pk", flat=True).iterator(chunk_size=BATCH)]
    if rule.kind == kind.BIRTHDAY:
        target = day + datetime.timedelta(days=rule.days_before)
        condition = Q()
        for month, month_day in calendar.month_days_for(target):
            condition |= Q(birthday__month=month, birthday__day=month_day)
        return [(pk, target) for pk in audience.filter(condition, birthday__isnull=False).values_list("pk", flat=True)]
    if rule.kind == kind.ANNIVERSARY:
        target = day + datetime.timedelta(days=rule.days_before)
        rows = audience.values_list("pk", "created_at")
        pairs = calendar.month_days_for(target)
        # created_at is a moment: compare local dates (few rows match a day, but the filter stays in Python for
        # time-zone-correct month/day on SQLite; narrow by month in SQL first).
        rows = rows.filter(created_at__month__in={m for m, _d in pairs} | {target.month})
        return [(pk, target) for pk, created in rows
                if (timezone.localtime(created).month, timezone.localtime(created).day) in pairs
                and timezone.localtime(created).year < target.year]
    if rule.kind == kind.AFTER_PURCHASE:
        bought = day - datetime.timedelta(days=rule.days_after)
        orders = Order.objects.filter(order_date=bought, customer__in=audience.values("pk")).exclude(status=Order.Status.CANCELLED)
        return [(pk, bought) for pk in orders.values_list("customer_id", flat=True).distinct()]
    if rule.kind == kind.AFTER_COMPLAINT:
        from guanxi.service.models import Complaint

        closed = day - datetime.timedelta(days=rule.days_after)
        start = timezone.make_aware(datetime.datetime.combine(closed, datetime.time.min))
        complaints = Complaint.objects.filter(closed_at__gte=start, closed_at__lt=start + datetime.timedelta(days=1),
                                              customer__in=audience.values("pk"))
        return [(pk, closed) for pk in complaints.values_list("customer_id", flat=True).distinct()]
    if rule.kind == kind.PERIODIC_VISIT:
        rows = audience.values_list("pk", "created_at")
        return [(pk, day) for pk, created in rows.iterator(chunk_size=BATCH)
                if (day - timezone.localtime(created).date()).days > 0
                and (day - timezone.localtime(created).date()).days % rule.interval_days == 0]
    return []


def _title(rule: CareRule, customer: Customer, occurrence: datetime.date) -> str:
    if rule.kind == rule.Kind.ANNIVERSARY:
        years = occurrence.year - timezone.localtime(customer.created_at).year
        name = calendar.ANNIVERSARY_NAMES.get(years)
        suffix = f" ({name})" if name else ""
        return _("%(rule)s: %(name)s, %(years)d years%(suffix)s") % {"rule": rule.name, "name": customer.name, "years": years, "suffix": suffix}
    return _("%(rule)s: %(name)s (%(date)s)") % {"rule": rule.name, "name": customer.name, "date": occurrence.isoformat()}


def _carry_out(firing: CareFiring) -> None:
    """Create the firing's task and/or e-mail — only if this call claims it."""
    with transaction.atomic():
        if not CareFiring.objects.filter(pk=firing.pk, processed_at__isnull=True).update(processed_at=timezone.now()):
            return
        rule, customer = firing.rule, firing.customer
        title = _title(rule, customer, firing.occurrence)[:200]
        fields = []
        owner = customer.owner
        if rule.create_task and owner is not None and owner.is_active:
            due = timezone.make_aware(datetime.datetime.combine(max(firing.occurrence, firing.fired_on), datetime.time(10)))
            try:
                firing.task = engagement.create_task(title=title, actor=owner, assignee=owner, customer=customer, due_at=due,
                                                     description=rule.message)
                fields.append("task")
            except PermissionDenied:
                pass  # a read-only owner gets no task; the firing still counts (and is on the timeline)
        if rule.send_email and customer.email and not customer.is_opted_out:
            firing.email = queue_email(to=customer.email, template="care/email/greeting", customer=customer,
                                       context={"rule": rule, "customer": customer, "occurrence": firing.occurrence},
                                       about=f"care:{rule.pk}")
            fields.append("email")
        if fields:
            firing.save(update_fields=fields)
        CustomerEvent.objects.create(customer=customer, verb="care", summary=title[:500])


def apply_care_rules(*, day: datetime.date | None = None, rules=None) -> int:
    """Fire every active rule due on `day` (default today); returns how many firings this call carried out."""
    day = day or timezone.localdate()
    carried = 0
    for rule in (rules if rules is not None else CareRule.objects.filter(is_active=True)):
        pairs = due_occurrences(rule, day)
        for start in range(0, len(pairs), BATCH):
            with transaction.atomic():
                CareFiring.objects.bulk_create(
                    [CareFiring(rule=rule, customer_id=pk, occurrence=occ, fired_on=day) for pk, occ in pairs[start:start + BATCH]],
                    ignore_conflicts=True,
                )
        pending = CareFiring.objects.filter(rule=rule, processed_at__isnull=True).select_related("rule", "customer", "customer__owner")
        for firing in pending.iterator(chunk_size=1000):
            _carry_out(firing)
            carried += 1
    return carried


# --- Incident notices ---------------------------------------------------------------------------------

def send_incident_notice(*, actor: User, product: Product, bought_from: datetime.date, bought_to: datetime.date,
                         subject: str, message: str) -> IncidentNotice:
    """Tell every buyer of `product` in the period, at once; each buyer once, on their timeline too."""
    _ensure_manager(actor)
    if bought_to < bought_from:
        raise ValidationError({"bought_to": _("The period ends before it starts.")})
    subject = clean_text(subject, "subject", 200, required=True)
    message = clean_text(message, "message", 10_000, required=True)
    buyers = list(OrderLine.objects.filter(product=product, order__order_date__range=(bought_from, bought_to))
                  .exclude(order__status=Order.Status.CANCELLED).values_list("order__customer_id", flat=True).distinct())
    with transaction.atomic():
        notice = IncidentNotice.objects.create(product=product, bought_from=bought_from, bought_to=bought_to, subject=subject,
                                               message=message, created_by=actor)
        IncidentRecipient.objects.bulk_create([IncidentRecipient(notice=notice, customer_id=pk) for pk in buyers],
                                              ignore_conflicts=True, batch_size=BATCH)
        for recipient in notice.recipients.select_related("customer"):
            customer = recipient.customer
            CustomerEvent.objects.create(customer=customer, verb="incident_notice", actor=actor, summary=subject[:500])
            if customer.email:  # a safety notice is not marketing: it goes to opted-out customers too
                recipient.email = queue_email(to=customer.email, template="care/email/incident_notice", customer=customer,
                                              context={"notice": notice, "customer": customer}, about=f"incident:{notice.pk}", actor=actor)
                recipient.save(update_fields=["email"])
    return notice
