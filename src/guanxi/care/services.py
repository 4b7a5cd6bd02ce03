"""Every write of customer care: rules, opt-outs, the daily application of rules, incident notices.

`apply_care_rules(day)` is idempotent: each (rule, customer, occurrence) is a CareFiring row under a
unique constraint, inserted with bulk_create(ignore_conflicts=True); tasks and e-mails are created
for a firing only by whoever flips its `processed_at` from NULL. Rerunning a day, catching up after
downtime, or two workers at once never greet a customer twice.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import Role, User
from guanxi.care import calendar
from guanxi.care.models import CareFiring, CareOptOut, CareRule, IncidentNotice, IncidentRecipient
from guanxi.customers.models import Customer, CustomerEvent, CustomerType, State, UpgradePotential
from guanxi.engagement import services as engagement
from guanxi.insights.models import CustomerScore, Grade, ServicePolicy
from guanxi.messaging.services import queue_email
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.sales.selectors import BILLED_STATUSES
from guanxi.sales.services import clean_choice, clean_text, ensure_can_edit_customer

BATCH = 5_000


def _ensure_manager(actor: User) -> None:
    if not actor.is_active or not (actor.is_superuser or actor.role in (Role.ADMIN, Role.MANAGER)):
        raise PermissionDenied(_("Only managers and administrators set up care rules."))


def create_care_rule(*, actor: User, name: str, kind: str, holiday: str = "", days_before: int = 0, days_after: int = 0,
                     interval_days: int | None = None, grade: str = "", customer_type: str = "", current_only: bool = True,
                     create_task: bool = True, send_email: bool = False, message: str = "") -> CareRule:
    _ensure_manager(actor)
    kind = clean_choice(kind, "kind", CareRule.Kind)
    if kind == CareRule.Kind.HOLIDAY:
        holiday = clean_choice(holiday, "holiday", CareRule.Holiday)
    elif holiday:
        raise ValidationError({"holiday": _("Only holiday rules name a holiday.")})
    if kind == CareRule.Kind.PERIODIC_VISIT:
        grade = clean_choice(grade, "grade", Grade)
        if interval_days is None and not ServicePolicy.objects.filter(grade=grade, contact_every_days__isnull=False).exists():
            raise ValidationError({"interval_days": _("This grade's service policy sets no contact interval: give one.")})
        if interval_days is not None and not 1 <= interval_days <= 3650:
            raise ValidationError({"interval_days": _("Give the interval in days (1–3650).")})
    elif grade:
        raise ValidationError({"grade": _("Only periodic visits target a grade.")})
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
            days_after=days_after, interval_days=interval_days, grade=grade, customer_type=customer_type, current_only=current_only,
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
        return _periodic_visits(rule, audience, day)
    return []


def _periodic_visits(rule: CareRule, audience, day: datetime.date) -> list[tuple[int, datetime.date]]:
    """Customers of the rule's grade in the current scoring run (never-scored customers are not visited), every N
    days counted from when they became customers; N is the rule's interval, else their grade's service policy's
    contact interval (with or without upgrade potential). One query, whatever the number of customers."""
    if not rule.grade:  # a rule saved before visits went by grade: its customer type alone chose the audience
        rows = ((pk, created, rule.interval_days) for pk, created in audience.values_list("pk", "created_at").iterator(chunk_size=BATCH))
    else:
        every = {potential: rule.interval_days for potential in (True, False)}
        if rule.interval_days is None:
            every = {p.with_potential: p.contact_every_days for p in ServicePolicy.objects.filter(grade=rule.grade)}
        scores = CustomerScore.objects.filter(run__is_current=True, grade=rule.grade, customer__in=audience.values("pk"))
        rows = ((pk, created, every.get(potential != UpgradePotential.NONE)) for pk, created, potential in
                scores.values_list("customer_id", "customer__created_at", "customer__upgrade_potential").iterator(chunk_size=BATCH))
    due = []
    for pk, created, interval in rows:
        days = (day - timezone.localtime(created).date()).days
        if interval and days > 0 and days % interval == 0:
            due.append((pk, day))
    return due


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

def send_incident_notice(*, actor: User, subject: str, message: str, product: Product | None = None, batch: str = "",
                         bought_from: datetime.date | None = None, bought_to: datetime.date | None = None) -> IncidentNotice:
    """Tell every buyer of `product`, of one of its batches, or in the period — any combination — at once; each buyer
    once, on their timeline too."""
    _ensure_manager(actor)
    batch = clean_text(batch, "batch", 40)
    if batch and product is None:
        raise ValidationError({"batch": _("A batch belongs to a product: choose the product too.")})
    if product is None and bought_from is None and bought_to is None:
        raise ValidationError({"product": _("Choose a product, a batch or a period of purchase.")})
    if bought_from is not None and bought_to is not None and bought_to < bought_from:
        raise ValidationError({"bought_to": _("The period ends before it starts.")})
    subject = clean_text(subject, "subject", 200, required=True)
    message = clean_text(message, "message", 10_000, required=True)
    lines = OrderLine.objects.exclude(order__status=Order.Status.CANCELLED)
    if product is not None:
        lines = lines.filter(product=product)
    if batch:
        lines = lines.filter(batch=batch)
    if bought_from is not None:
        lines = lines.filter(order__order_date__gte=bought_from)
    if bought_to is not None:
        lines = lines.filter(order__order_date__lte=bought_to)
    buyers = list(lines.values_list("order__customer_id", flat=True).distinct())
    with transaction.atomic():
        notice = IncidentNotice.objects.create(product=product, batch=batch, bought_from=bought_from, bought_to=bought_to,
                                               subject=subject, message=message, created_by=actor)
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


# --- Campaigns ------------------------------------------------------------------------------------------

SEGMENT_FILTERS = {"state", "owner", "tag", "source", "search", "customer_type", "province", "ids", "grade", "value_segment"}
SEGMENT_MAX_IDS = 1_000  # a fixed target list (look-alikes, prospects) is a short ranked list, not a table


def segment_customers(segment, user: User):
    """The audience: the customer list's own filters (so a segment matches what the list showed), plus type,
    province, and the grade and value-matrix segment of the current scoring run."""
    from guanxi.customers.selectors import customer_list
    from guanxi.insights.models import ValueSegment

    filters = dict(segment.filters)
    extra = {key: filters.pop(key) for key in ("customer_type", "province", "ids", "grade", "value_segment") if key in filters}
    queryset = customer_list(user, **filters).order_by("pk")
    if "ids" in extra:  # exactly these customers (a campaign target list), still only those the user sees
        ids = extra["ids"]
        if not isinstance(ids, list) or len(ids) > SEGMENT_MAX_IDS or not all(type(i) is int for i in ids):
            raise ValidationError({"filters": _("Give at most %(n)d customer ids.") % {"n": SEGMENT_MAX_IDS}})
        queryset = queryset.filter(pk__in=ids)
    if extra.get("customer_type"):
        queryset = queryset.filter(customer_type=extra["customer_type"])
    if extra.get("province"):
        queryset = queryset.filter(province=extra["province"])
    for key, choices in (("grade", Grade), ("value_segment", ValueSegment)):
        if extra.get(key):
            if extra[key] not in choices.values:
                raise ValidationError({"filters": _("Unknown %(name)s: %(value)s.") % {"name": key, "value": extra[key]}})
            scored = CustomerScore.objects.filter(run__is_current=True, **{key: extra[key]}).values("customer_id")
            queryset = queryset.filter(pk__in=scored)
    return queryset


def save_segment(*, actor: User, name: str, filters: dict):
    from guanxi.care.models import Segment

    _ensure_manager(actor)
    if not isinstance(filters, dict):
        raise ValidationError({"filters": _("Give the filters as an object.")})
    unknown = set(filters) - SEGMENT_FILTERS
    if unknown:
        raise ValidationError({"filters": _("Unknown filter: %(name)s.") % {"name": sorted(unknown)[0]}})
    segment = Segment(name=clean_text(name, "name", 100, required=True), filters=filters, created_by=actor)
    segment_customers(segment, actor).exists()  # validates the values (unknown state, …) before saving
    with transaction.atomic():
        segment.save()
    return segment


def create_campaign(*, actor: User, name: str, segment, subject: str, message: str, channel: str = "email",
                    budget="0", cost="0", holdout_percent: int = 10, response_days: int = 30, link_url: str = "/contact/"):
    from guanxi.care.models import Campaign
    from guanxi.sales.services import money

    _ensure_manager(actor)
    if not 0 <= holdout_percent <= 50:
        raise ValidationError({"holdout_percent": _("Keep between 0 and 50% back.")})
    if not 1 <= response_days <= 365:
        raise ValidationError({"response_days": _("Between 1 and 365 days.")})
    if not link_url.startswith("/") or link_url.startswith("//"):
        raise ValidationError({"link_url": _("Link to a page of this site, starting with /.")})
    with transaction.atomic():
        return Campaign.objects.create(
            name=clean_text(name, "name", 100, required=True), segment=segment, channel=clean_choice(channel, "channel", Campaign.Channel),
            subject=clean_text(subject, "subject", 200, required=True), message=clean_text(message, "message", 10_000, required=True),
            budget=money(budget, "budget"), cost=money(cost, "cost"), holdout_percent=holdout_percent, response_days=response_days,
            link_url=clean_text(link_url, "link_url", 300), created_by=actor,
        )


def is_holdout(campaign, customer_id: int) -> bool:
    """A stable pseudo-random split: the same customer lands in the same group however often it is computed."""
    import hashlib

    digest = hashlib.sha256(f"{campaign.pk}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < campaign.holdout_percent


def tracking_token(member) -> str:
    from django.core import signing

    return signing.Signer(salt="campaign-link").sign(str(member.pk))


def launch_campaign(*, campaign, actor: User):
    """Split the audience into contacted and hold-out, then e-mail (consenting customers only) or task the owners."""
    from guanxi.care.models import Campaign, CampaignMember

    _ensure_manager(actor)
    with transaction.atomic():
        if not Campaign.objects.filter(pk=campaign.pk, status=Campaign.CampaignStatus.DRAFT).update(
                status=Campaign.CampaignStatus.RUNNING, launched_at=timezone.now()):
            raise ValidationError({"status": _("The campaign has already been launched.")})
        campaign.refresh_from_db()
        audience = segment_customers(campaign.segment, campaign.created_by or actor)
        if campaign.channel == Campaign.Channel.EMAIL:
            audience = audience.filter(opted_out_at__isnull=True).exclude(email="")
        ids = list(audience.values_list("pk", flat=True))
        CampaignMember.objects.bulk_create(
            [CampaignMember(campaign=campaign, customer_id=pk, is_holdout=is_holdout(campaign, pk)) for pk in ids],
            ignore_conflicts=True, batch_size=BATCH,
        )
        for member in campaign.members.filter(is_holdout=False).select_related("customer", "customer__owner"):
            customer = member.customer
            if campaign.channel == Campaign.Channel.EMAIL:
                member.email = queue_email(to=customer.email, template="care/email/campaign", customer=customer, actor=actor,
                                           context={"campaign": campaign, "customer": customer, "token": tracking_token(member),
                                                    "site_url": getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")},
                                           about=f"campaign:{campaign.pk}")
                member.save(update_fields=["email"])
            elif customer.owner is not None and customer.owner.is_active:
                try:
                    member.task = engagement.create_task(title=f"{campaign.name}: {customer.name}"[:200], actor=customer.owner,
                                                         assignee=customer.owner, customer=customer, description=campaign.message)
                    member.save(update_fields=["task"])
                except PermissionDenied:
                    pass
            CustomerEvent.objects.create(customer=customer, verb="campaign", actor=actor, summary=campaign.name[:500])
    return campaign


def record_link_opened(*, token: str):
    """The campaign link was followed (no login): remember the first time; returns the member or None."""
    from django.core import signing

    from guanxi.care.models import CampaignMember

    try:
        pk = int(signing.Signer(salt="campaign-link").unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    member = CampaignMember.objects.select_related("campaign").filter(pk=pk).first()
    if member is not None:
        CampaignMember.objects.filter(pk=pk, opened_at__isnull=True).update(opened_at=timezone.now())
    return member


def record_reply(*, member, actor: User):
    ensure_can_edit_customer(actor, member.customer)
    from guanxi.care.models import CampaignMember

    CampaignMember.objects.filter(pk=member.pk, replied_at__isnull=True).update(replied_at=timezone.now())


def attribute_purchases(*, campaign, customer_ids: list[int] | None = None) -> int:
    """Orders placed within `response_days` after launch count for the campaign (contacted and hold-out
    alike). Recomputed for every member (or those of `customer_ids`), so an order cancelled later stops
    counting. One UPDATE however many members bought; returns how many members bought."""
    from django.db.models import DecimalField, Min, Subquery, Sum
    from django.db.models.functions import Coalesce

    from guanxi.care.models import CampaignMember

    if campaign.launched_at is None:
        return 0
    end = campaign.launched_at + datetime.timedelta(days=campaign.response_days)
    orders = (Order.objects.filter(customer_id=OuterRef("customer_id"), created_at__gte=campaign.launched_at, created_at__lt=end)
              .filter(status__in=BILLED_STATUSES).order_by().values("customer_id"))
    money = DecimalField(max_digits=14, decimal_places=2)
    members = CampaignMember.objects.filter(campaign=campaign)
    if customer_ids is not None:
        members = members.filter(customer_id__in=customer_ids)
    with transaction.atomic():
        members.update(
            purchased_at=Subquery(orders.annotate(first=Min("created_at")).values("first")[:1]),
            revenue=Coalesce(Subquery(orders.annotate(revenue=Sum("total")).values("revenue")[:1], output_field=money),
                             Value(Decimal("0.00")), output_field=money))
    return members.filter(purchased_at__isnull=False).count()


ATTRIBUTION_HORIZON = datetime.timedelta(days=400)  # longer than any response window


def attribute_customer_purchases(*, customer_id: int) -> None:
    """An order of this customer was saved or cancelled: recount it for the campaigns they are in
    (called after the commit; the daily job recounts every recent campaign as well)."""
    from guanxi.care.models import Campaign

    since = timezone.now() - ATTRIBUTION_HORIZON
    for campaign in Campaign.objects.filter(members__customer_id=customer_id, launched_at__gte=since):
        attribute_purchases(campaign=campaign, customer_ids=[customer_id])


def attribute_recent_campaigns(*, now: datetime.datetime | None = None) -> int:
    """The daily recount of every campaign whose response window is open or closed within the horizon
    (orders written in bulk — imports, the demo — skip the per-order hook). Returns campaigns recounted."""
    from guanxi.care.models import Campaign

    now = now or timezone.now()
    campaigns = list(Campaign.objects.filter(launched_at__isnull=False, launched_at__gte=now - ATTRIBUTION_HORIZON))
    for campaign in campaigns:
        attribute_purchases(campaign=campaign)
    return len(campaigns)


def campaign_results(*, campaign) -> dict:
    """Responses, conversion, revenue and ROI, with the hold-out group as the baseline (incremental lift)."""
    from decimal import Decimal

    from django.db.models import Count, Sum

    def group(is_holdout: bool) -> dict:
        members = campaign.members.filter(is_holdout=is_holdout)
        row = members.aggregate(n=Count("pk"), opened=Count("opened_at"), replied=Count("replied_at"), bought=Count("purchased_at"),
                                revenue=Sum("revenue"))
        row["revenue"] = row["revenue"] or Decimal("0")
        row["conversion"] = row["bought"] / row["n"] if row["n"] else None
        return row

    contacted, holdout = group(False), group(True)
    lift = (contacted["conversion"] - holdout["conversion"]) if contacted["conversion"] is not None and holdout["conversion"] is not None else None
    per_member_holdout = holdout["revenue"] / holdout["n"] if holdout["n"] else Decimal("0")
    incremental = contacted["revenue"] - per_member_holdout * contacted["n"]
    roi = ((contacted["revenue"] - campaign.cost) / campaign.cost) if campaign.cost else None
    return {"contacted": contacted, "holdout": holdout, "lift": lift, "incremental_revenue": incremental.quantize(Decimal("0.01")),
            "roi": roi, "budget_left": campaign.budget - campaign.cost}
