"""Every write to complaints, dissatisfaction records, backlog links, defect alerts and escalations.

Each workflow move is one function: it checks the move against `workflow.TRANSITIONS`, checks
who may make it, validates, writes under optimistic locking in one transaction, records a
ComplaintStep and a line on the customer's timeline, and queues the customer's e-mail in the
same transaction (the outbox sends it after commit).
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import Department, Role, User
from guanxi.core.locking import save_versioned
from guanxi.core.visibility import can_edit_customer
from guanxi.customers.models import Customer, CustomerEvent, DataSource, LeadSource
from guanxi.customers.services import create_customer, normalise_phone
from guanxi.engagement.models import Channel
from guanxi.messaging.services import queue_email
from guanxi.sales.models import Order, Product
from guanxi.sales.services import clean_choice, clean_text, money
from guanxi.service import sla
from guanxi.service.models import (
    BacklogItem, CausedBy, Category, Complaint, ComplaintCause, ComplaintSequence, ComplaintStep, Concerns,
    DefectAlert, Dissatisfaction, Reaction, Severity, SlaEscalation, SlaPolicy,
)
from guanxi.service.selectors import visible_complaints
from guanxi.service.workflow import TRANSITIONS, UNACKNOWLEDGED_STATUSES, UNRESOLVED_STATUSES

HANDLER_ROLES = {Role.SERVICE, Role.MANAGER, Role.ADMIN}
APPROVER_ROLES = {Role.MANAGER, Role.ADMIN}
# Business hours per severity when no SlaPolicy row says otherwise: (acknowledge, resolve).
DEFAULT_SLA = {Severity.CRITICAL: (2, 16), Severity.HIGH: (4, 24), Severity.MEDIUM: (8, 40), Severity.LOW: (16, 80)}
DEFAULT_WARN_PERCENT = 80
# "How to reach us" (settings.SERVICE_CONTACT overrides any of these).
DEFAULT_CONTACT = {"hotline": "400-800-1234", "email": "service@example.com", "wechat": "Guanxi客服",
                   "address": "", "hours": "9:00–18:00", "department": ""}


def on_the_spot_limit() -> Decimal:
    """Remedies up to this amount the agent approves on the spot ("it's company policy" is the failure)."""
    return Decimal(str(getattr(settings, "COMPLAINT_ON_THE_SPOT_LIMIT", "500.00")))


def defect_threshold() -> tuple[int, int]:
    """(complaints, days): this many with the same product and cause within the window raise an alert."""
    return getattr(settings, "DEFECT_ALERT_COMPLAINTS", 3), getattr(settings, "DEFECT_ALERT_WINDOW_DAYS", 30)


# --- Checks ----------------------------------------------------------------------------------

def _is_handler(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in HANDLER_ROLES)


def _is_approver(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in APPROVER_ROLES)


def ensure_can_handle(actor: User, complaint: Complaint) -> None:
    """Invisible complaints do not exist for the actor; service agents, managers and admins handle them."""
    if not visible_complaints(actor).filter(pk=complaint.pk).exists():
        raise Complaint.DoesNotExist(_("No such complaint."))
    if not _is_handler(actor):
        raise PermissionDenied(_("Only service agents, managers and administrators handle complaints."))


def _recipient(complaint: Complaint) -> str:
    return complaint.contact_email or (complaint.customer.email if complaint.customer_id else "")


def _mail_customer(complaint: Complaint, template: str, actor: User | None, **context) -> None:
    to = _recipient(complaint)
    if to:
        queue_email(
            to=to, template=f"service/email/{template}", context={"complaint": complaint, **context},
            language=complaint.language or None, customer=complaint.customer, about=f"complaint:{complaint.pk}", actor=actor,
        )


def _timeline(complaint: Complaint, summary: str, actor: User | None, at: datetime.datetime | None = None) -> None:
    if complaint.customer_id:
        CustomerEvent.objects.create(
            customer_id=complaint.customer_id, verb="complaint", summary=f"{complaint.reference}: {summary}"[:500],
            actor=actor, occurred_at=at or timezone.now(),
        )


def _step(complaint: Complaint, action: str, from_status: str, note: str, actor: User | None) -> ComplaintStep:
    step = ComplaintStep.objects.create(
        complaint=complaint, action=action, from_status=from_status, to_status=complaint.status, note=note, actor=actor,
    )
    label = TRANSITIONS[action].label if action in TRANSITIONS else _STEP_LABELS.get(action, action)
    _timeline(complaint, f"{label}" + (f" — {note[:200]}" if note else ""), actor, step.at)
    return step


_STEP_LABELS = {"receive": _("Complaint received"), "take_over": _("Taken over"), "link_backlog": _("Linked to backlog")}


def _move(complaint: Complaint, action: str, *, actor: User, expected_version: int, note: str = "", **fields) -> Complaint:
    """Make one move of the table: refuse it unless allowed from the current state, then write and trace it."""
    transition = TRANSITIONS[action]
    if complaint.status not in transition.sources:
        raise ValidationError(
            {"status": _("A complaint that is “%(status)s” cannot be moved with “%(action)s”.") % {
                "status": complaint.get_status_display(), "action": transition.label}},
            code="invalid_transition",
        )
    from_status = complaint.status
    for name, value in fields.items():
        setattr(complaint, name, value)
    complaint.status = transition.target
    with transaction.atomic():
        save_versioned(complaint, expected_version=expected_version, fields=["status", *fields])
        _step(complaint, action, from_status, note, actor)
    return complaint


def _clean_email(value: str, field: str) -> str:
    from django.core.validators import validate_email

    value = (value or "").strip().lower()
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError({field: _("Enter a valid e-mail address.")}) from None
    return value


# --- SLA deadlines -----------------------------------------------------------------------------

def sla_for(severity: str) -> tuple[int, int, int]:
    """(acknowledge hours, resolve hours, warn %) for a severity: the policy row, else the defaults."""
    policy = SlaPolicy.objects.filter(severity=severity).first()
    if policy is not None:
        return policy.acknowledge_hours, policy.resolve_hours, policy.warn_at_percent
    ack, resolve = DEFAULT_SLA.get(severity, DEFAULT_SLA[Severity.MEDIUM])
    return ack, resolve, DEFAULT_WARN_PERCENT


def sla_times(severity: str, received_at: datetime.datetime) -> dict[str, datetime.datetime]:
    """The complaint's deadlines, and the moments from which each counts as near breach."""
    ack, resolve, warn = sla_for(severity)
    return {
        "acknowledge_due_at": sla.add_business_hours(received_at, ack),
        "resolve_due_at": sla.add_business_hours(received_at, resolve),
        "acknowledge_warn_at": sla.add_business_hours(received_at, ack * warn / 100),
        "resolve_warn_at": sla.add_business_hours(received_at, resolve * warn / 100),
    }


def set_sla_policy(*, actor: User, severity: str, acknowledge_hours: int, resolve_hours: int, warn_at_percent: int = 80) -> SlaPolicy:
    if not _is_approver(actor):
        raise PermissionDenied(_("Only managers and administrators set SLAs."))
    clean_choice(severity, "severity", Severity)
    if not 0 < acknowledge_hours <= resolve_hours <= 10_000:
        raise ValidationError({"resolve_hours": _("Acknowledge first: 0 < acknowledge hours ≤ resolve hours ≤ 10,000.")})
    if not 1 <= warn_at_percent <= 99:
        raise ValidationError({"warn_at_percent": _("Between 1 and 99.")})
    with transaction.atomic():
        policy, _created = SlaPolicy.objects.update_or_create(
            severity=severity, defaults={"acknowledge_hours": acknowledge_hours, "resolve_hours": resolve_hours, "warn_at_percent": warn_at_percent},
        )
    return policy


# --- Intake --------------------------------------------------------------------------------------

def next_reference(year: int) -> str:
    """TS-<year>-<6 digits>; the counter row's UPDATE lock serialises concurrent intake until commit."""
    ComplaintSequence.objects.bulk_create([ComplaintSequence(year=year, last=0)], ignore_conflicts=True)
    ComplaintSequence.objects.filter(year=year).update(last=F("last") + 1)
    return f"TS-{year}-{ComplaintSequence.objects.get(year=year).last:06d}"


def receive_complaint(*, channel: str, description: str, actor: User | None = None, customer: Customer | None = None,
                      contact_name: str = "", contact_email: str = "", contact_phone: str = "", language: str = "",
                      category: str = Category.OTHER, severity: str = Severity.MEDIUM, order: Order | None = None,
                      product: Product | None = None, desired_outcome: str = "",
                      received_at: datetime.datetime | None = None) -> Complaint:
    """A complaint arrives (staff, public form, e-mail): numbered, deadlines set, acknowledged by e-mail."""
    if actor is not None:
        if customer is not None and not can_edit_customer(actor, customer) and not _is_handler(actor):
            raise PermissionDenied(_("You may not record complaints for this customer."))
        if not actor.is_active or actor.role == Role.ANALYST:
            raise PermissionDenied(_("You may not record complaints."))
    channel = clean_choice(channel, "channel", Channel)
    category = clean_choice(category, "category", Category)
    severity = clean_choice(severity, "severity", Severity)
    description = clean_text(description, "description", 10_000, required=True)
    desired_outcome = clean_text(desired_outcome, "desired_outcome", 5_000)
    contact_name = clean_text(contact_name, "contact_name", 100)
    contact_email = _clean_email(contact_email, "contact_email")
    contact_phone = normalise_phone(contact_phone) if contact_phone else ""
    if customer is None and not (contact_email or contact_phone):
        raise ValidationError({"contact_email": _("Give an e-mail address or a phone number so we can answer.")})
    if order is not None and customer is not None and order.customer_id != customer.pk:
        raise ValidationError({"order": _("The order belongs to another customer.")})
    received_at = received_at or timezone.now()
    with transaction.atomic():
        complaint = Complaint.objects.create(
            reference=next_reference(timezone.localtime(received_at).year), customer=customer, channel=channel,
            contact_name=contact_name, contact_email=contact_email, contact_phone=contact_phone,
            language=(language or "")[:8], category=category, severity=severity, order=order,
            product=product or None, description=description, desired_outcome=desired_outcome, received_at=received_at,
            created_by=actor, **sla_times(severity, received_at),
        )
        _step(complaint, "receive", "", "", actor)
        _mail_customer(complaint, "acknowledgement", actor)
    return complaint


def find_complainant(*, email: str, phone: str) -> Customer | None:
    """An existing customer with this e-mail or phone, so the complaint lands on their timeline."""
    if email and (found := Customer.objects.filter(email=email).order_by("pk").first()):
        return found
    if phone and (found := Customer.objects.filter(phone=phone).order_by("pk").first()):
        return found
    return None


def submit_public_complaint(*, name: str, email: str, phone: str, description: str, desired_outcome: str = "",
                            category: str = Category.OTHER, order_number: str = "", language: str = "") -> Complaint:
    """The public web form: no login. The complaint and its acknowledgement e-mail commit together or not at all."""
    name = clean_text(name, "name", 100, required=True)
    email = _clean_email(email, "email")
    if not email:
        raise ValidationError({"email": _("We need your e-mail address to send you the reference number.")})
    phone = normalise_phone(phone) if (phone or "").strip() else ""
    customer = find_complainant(email=email, phone=phone)
    order = None
    if order_number.strip():
        order = Order.objects.filter(number=order_number.strip().upper()).first()
        if order is not None and customer is not None and order.customer_id != customer.pk:
            order = None  # never attach someone else's order on an unauthenticated form's say-so
    return receive_complaint(
        channel=Channel.WEB_FORM, description=description, customer=customer, contact_name=name, contact_email=email,
        contact_phone=phone, language=language, category=category, order=order,
        product=order.lines.first().product if order is not None and order.lines.exists() else None,
        desired_outcome=desired_outcome,
    )


# --- The workflow ----------------------------------------------------------------------------------

REGISTRATION_FIELDS = ("channel", "order", "product", "category", "caused_by", "concerns", "severity", "reaction",
                       "description", "desired_outcome")


def register_complaint(*, complaint: Complaint, actor: User, expected_version: int, customer: Customer | None = None,
                       create_customer_from_contact: bool = False, **form) -> Complaint:
    """Fill in the registration form (投诉处理登记表); this is the acknowledgement the SLA measures."""
    ensure_can_handle(actor, complaint)
    unknown = set(form) - set(REGISTRATION_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be set here.")})
    fields = {name: form.get(name, getattr(complaint, name)) for name in REGISTRATION_FIELDS}
    fields["channel"] = clean_choice(fields["channel"], "channel", Channel)
    fields["category"] = clean_choice(fields["category"], "category", Category)
    fields["caused_by"] = clean_choice(fields["caused_by"], "caused_by", CausedBy)
    fields["concerns"] = clean_choice(fields["concerns"], "concerns", Concerns)
    fields["severity"] = clean_choice(fields["severity"], "severity", Severity)
    fields["reaction"] = clean_choice(fields["reaction"], "reaction", Reaction)
    fields["description"] = clean_text(fields["description"], "description", 10_000, required=True)
    fields["desired_outcome"] = clean_text(fields["desired_outcome"], "desired_outcome", 5_000)
    with transaction.atomic():
        customer = customer or complaint.customer
        if customer is None and create_customer_from_contact:
            customer = create_customer(
                actor=actor, name=complaint.contact_name or complaint.contact_email, email=complaint.contact_email,
                phone=complaint.contact_phone, source=LeadSource.WEB_FORM, data_source=DataSource.COMPLAINT,
            )
        if customer is None:
            raise ValidationError({"customer": _("Choose the customer (or create one from the contact details).")})
        order = fields["order"]
        if order is not None and order.customer_id != customer.pk:
            raise ValidationError({"order": _("The order belongs to another customer.")})
        newly_linked = complaint.customer_id != customer.pk
        fields["customer"] = customer
        fields["acknowledged_at"] = complaint.acknowledged_at or timezone.now()
        fields.update(sla_times(fields["severity"], complaint.received_at))
        if complaint.handler_id is None:
            fields["handler"] = actor
        if newly_linked:
            complaint.customer = customer
            _timeline(complaint, str(_STEP_LABELS["receive"]), complaint.created_by, complaint.received_at)
        return _move(complaint, "register", actor=actor, expected_version=expected_version, **fields)


def accept_complaint(*, complaint: Complaint, actor: User, expected_version: int, note: str = "") -> Complaint:
    ensure_can_handle(actor, complaint)
    return _move(complaint, "accept", actor=actor, expected_version=expected_version, note=clean_text(note, "note", 2000))


def reject_complaint(*, complaint: Complaint, actor: User, expected_version: int, reason: str) -> Complaint:
    """Not a valid complaint: the customer gets a tactful reply with the reason, and the case closes."""
    ensure_can_handle(actor, complaint)
    reason = clean_text(reason, "reason", 5_000, required=True)
    with transaction.atomic():
        _move(complaint, "reject", actor=actor, expected_version=expected_version, note=reason,
              invalid_reason=reason, closed_at=timezone.now())
        _mail_customer(complaint, "invalid_reply", actor, reason=reason)
    return complaint


def assign_department(*, complaint: Complaint, actor: User, expected_version: int, department: Department,
                      handler: User | None = None) -> Complaint:
    ensure_can_handle(actor, complaint)
    if department is None:
        raise ValidationError({"department": _("Choose the responsible department.")})
    if handler is not None and not _is_handler(handler):
        raise ValidationError({"handler": _("The handler must be an active service agent, manager or administrator.")})
    fields = {"department": department}
    if handler is not None:
        fields["handler"] = handler
    return _move(complaint, "assign_department", actor=actor, expected_version=expected_version, note=department.name, **fields)


def _cause(name: str) -> ComplaintCause:
    name = clean_text(name, "cause", 100, required=True)
    key = " ".join(name.casefold().split())
    cause = ComplaintCause.objects.filter(key=key).first()
    if cause is None:
        ComplaintCause.objects.bulk_create([ComplaintCause(name=name, key=key)], ignore_conflicts=True)
        cause = ComplaintCause.objects.get(key=key)
    return cause


def analyse_cause(*, complaint: Complaint, actor: User, expected_version: int, cause: str, analysis: str = "") -> Complaint:
    """Name the root cause; several complaints with the same product and cause raise a defect alert."""
    ensure_can_handle(actor, complaint)
    analysis = clean_text(analysis, "analysis", 10_000)
    with transaction.atomic():
        found = _cause(cause)
        _move(complaint, "analyse_cause", actor=actor, expected_version=expected_version, note=found.name,
              cause=found, cause_analysis=analysis)
        if complaint.product_id:
            raise_defect_alert(product=complaint.product, cause=found)
    return complaint


def propose_solution(*, complaint: Complaint, actor: User, expected_version: int, solution: str,
                     remedy_amount: Decimal | str | int = Decimal("0")) -> Complaint:
    ensure_can_handle(actor, complaint)
    solution = clean_text(solution, "solution", 10_000, required=True)
    amount = money(remedy_amount, "remedy_amount")
    note = solution[:200] + (f" ({amount} {complaint.currency})" if amount else "")
    return _move(complaint, "propose_solution", actor=actor, expected_version=expected_version, note=note,
                 solution=solution, remedy_amount=amount, approved_by=None)


def can_approve(actor: User, complaint: Complaint) -> bool:
    """Managers approve any remedy; the agent approves small ones on the spot."""
    return _is_approver(actor) or (_is_handler(actor) and complaint.remedy_amount <= on_the_spot_limit())


def approve_solution(*, complaint: Complaint, actor: User, expected_version: int, note: str = "") -> Complaint:
    ensure_can_handle(actor, complaint)
    if not can_approve(actor, complaint):
        raise PermissionDenied(_("A remedy above %(limit)s needs a manager's approval.") % {"limit": on_the_spot_limit()})
    return _move(complaint, "approve", actor=actor, expected_version=expected_version,
                 note=clean_text(note, "note", 2000), approved_by=actor)


def send_back_solution(*, complaint: Complaint, actor: User, expected_version: int, reason: str) -> Complaint:
    """The manager does not approve: the proposal goes back to the agent with the reason."""
    ensure_can_handle(actor, complaint)
    if not _is_approver(actor):
        raise PermissionDenied(_("Only managers send a proposal back."))
    return _move(complaint, "send_back", actor=actor, expected_version=expected_version,
                 note=clean_text(reason, "reason", 2000, required=True))


def carry_out_solution(*, complaint: Complaint, actor: User, expected_version: int, note: str = "") -> Complaint:
    ensure_can_handle(actor, complaint)
    return _move(complaint, "carry_out", actor=actor, expected_version=expected_version, note=clean_text(note, "note", 2000))


def notify_customer(*, complaint: Complaint, actor: User, expected_version: int, message: str = "") -> Complaint:
    """Tell the customer what was done and ask whether they are satisfied (by e-mail when we have an address)."""
    ensure_can_handle(actor, complaint)
    message = clean_text(message, "message", 5_000)
    with transaction.atomic():
        _move(complaint, "notify_customer", actor=actor, expected_version=expected_version, note=message[:200])
        _mail_customer(complaint, "solution_notice", actor, message=message)
    return complaint


def record_customer_response(*, complaint: Complaint, actor: User, expected_version: int, satisfied: bool,
                             rating: int | None = None, note: str = "") -> Complaint:
    """Satisfied: resolved. Not satisfied: the case reopens and goes back to analysis."""
    ensure_can_handle(actor, complaint)
    if rating is not None and rating not in range(1, 6):
        raise ValidationError({"rating": _("Rate the handling from 1 to 5.")})
    note = clean_text(note, "note", 2000)
    if satisfied:
        return _move(complaint, "customer_satisfied", actor=actor, expected_version=expected_version, note=note,
                     handling_rating=rating, resolved_at=timezone.now())
    return _move(complaint, "customer_unsatisfied", actor=actor, expected_version=expected_version, note=note,
                 handling_rating=rating, reopen_count=complaint.reopen_count + 1, approved_by=None)


def record_accountability(*, complaint: Complaint, actor: User, expected_version: int, responsible_person: str,
                          measure: str) -> Complaint:
    """处罚责任人: who was responsible and what measure or penalty follows."""
    ensure_can_handle(actor, complaint)
    person = clean_text(responsible_person, "responsible_person", 100, required=True)
    measure = clean_text(measure, "measure", 5_000, required=True)
    return _move(complaint, "record_accountability", actor=actor, expected_version=expected_version,
                 note=f"{person}: {measure[:150]}", responsible_person=person, accountability_measure=measure)


def evaluate_complaint(*, complaint: Complaint, actor: User, expected_version: int, evaluation: str) -> Complaint:
    ensure_can_handle(actor, complaint)
    evaluation = clean_text(evaluation, "evaluation", 10_000, required=True)
    return _move(complaint, "evaluate", actor=actor, expected_version=expected_version, note=evaluation[:200], evaluation=evaluation)


def archive_complaint(*, complaint: Complaint, actor: User, expected_version: int) -> Complaint:
    ensure_can_handle(actor, complaint)
    return _move(complaint, "archive", actor=actor, expected_version=expected_version,
                 closed_at=complaint.closed_at or timezone.now())


def take_over(*, complaint: Complaint, actor: User) -> Complaint:
    """A senior manager takes the case over: it becomes theirs whatever step it is at."""
    ensure_can_handle(actor, complaint)
    if not _is_approver(actor):
        raise PermissionDenied(_("Only managers take a case over."))
    if not complaint.is_open:
        raise ValidationError({"status": _("The case is closed.")})
    with transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(handler=actor, taken_over_by=actor, version=F("version") + 1, updated_at=timezone.now())
        complaint.refresh_from_db()
        _step(complaint, "take_over", complaint.status, "", actor)
    return complaint


def link_backlog_item(*, complaint: Complaint, actor: User, item: BacklogItem | None = None, title: str = "",
                      kind: str = BacklogItem.Kind.IMPROVEMENT, description: str = "") -> BacklogItem:
    """Complaints reveal defects and product ideas: link the case to an item on the backlog (new or existing)."""
    ensure_can_handle(actor, complaint)
    with transaction.atomic():
        if item is None:
            item = BacklogItem.objects.create(
                title=clean_text(title, "title", 200, required=True), kind=clean_choice(kind, "kind", BacklogItem.Kind),
                description=clean_text(description, "description", 10_000), product=complaint.product, created_by=actor,
            )
        Complaint.objects.filter(pk=complaint.pk).update(backlog_item=item, version=F("version") + 1, updated_at=timezone.now())
        complaint.refresh_from_db()
        _step(complaint, "link_backlog", complaint.status, item.title, actor)
    return item


# --- Dissatisfaction, defects, escalation, digest ------------------------------------------------------

def record_dissatisfaction(*, customer: Customer, actor: User, reaction: str = Reaction.SILENT,
                           category: str = Category.OTHER, product: Product | None = None, note: str = "",
                           observed_at: datetime.datetime | None = None) -> Dissatisfaction:
    """抱怨 that is not a complaint: recorded and counted (one complaint stands for ~25 unhappy customers)."""
    if not (can_edit_customer(actor, customer) or (_is_handler(actor) and Customer.objects.filter(pk=customer.pk).exists())):
        raise PermissionDenied(_("You may not record this for the customer."))
    record = Dissatisfaction(
        customer=customer, reaction=clean_choice(reaction, "reaction", Reaction), category=clean_choice(category, "category", Category),
        product=product, note=clean_text(note, "note", 5_000), observed_at=observed_at or timezone.now(), recorded_by=actor,
    )
    with transaction.atomic():
        record.save()
        CustomerEvent.objects.create(
            customer=customer, verb="dissatisfaction", actor=actor, occurred_at=record.observed_at,
            summary=(_("Dissatisfaction: %(reaction)s") % {"reaction": record.get_reaction_display()} + (f" — {record.note[:200]}" if record.note else ""))[:500],
        )
    return record


def raise_defect_alert(*, product: Product, cause: ComplaintCause, now: datetime.datetime | None = None) -> DefectAlert | None:
    """Open an alert when ≥N complaints share product and cause within the window; exactly one open alert per pair."""
    threshold, window = defect_threshold()
    since = (now or timezone.now()) - datetime.timedelta(days=window)
    count = Complaint.objects.filter(product=product, cause=cause, received_at__gte=since).count()
    if count < threshold:
        return None
    DefectAlert.objects.bulk_create(
        [DefectAlert(product=product, cause=cause, complaint_count=count, window_days=window)], ignore_conflicts=True,
    )
    alert = DefectAlert.objects.get(product=product, cause=cause, is_open=True)
    if alert.complaint_count != count:
        DefectAlert.objects.filter(pk=alert.pk).update(complaint_count=count)
    return alert


def close_defect_alert(*, alert: DefectAlert, actor: User, backlog_item: BacklogItem | None = None) -> DefectAlert:
    if not _is_approver(actor):
        raise PermissionDenied(_("Only managers close defect alerts."))
    with transaction.atomic():
        DefectAlert.objects.filter(pk=alert.pk).update(is_open=False, backlog_item=backlog_item or alert.backlog_item)
    alert.refresh_from_db()
    return alert


def _department_managers(department_id: int | None) -> list[User]:
    if department_id is None:
        return list(User.objects.filter(is_active=True, role=Role.ADMIN).exclude(email=""))
    return list(User.objects.filter(is_active=True, role=Role.MANAGER, department_id=department_id).exclude(email=""))


def escalate_near_breaches(*, now: datetime.datetime | None = None) -> list[SlaEscalation]:
    """Escalate complaints about to breach to the department's manager — once per complaint and deadline."""
    now = now or timezone.now()
    due = [
        (SlaEscalation.Deadline.ACKNOWLEDGE, "acknowledge_due_at",
         Complaint.objects.filter(status__in=UNACKNOWLEDGED_STATUSES, acknowledge_warn_at__lte=now)),
        (SlaEscalation.Deadline.RESOLVE, "resolve_due_at",
         Complaint.objects.filter(status__in=UNRESOLVED_STATUSES, resolve_warn_at__lte=now)),
    ]
    for deadline, due_field, queryset in due:
        rows = queryset.exclude(escalations__deadline=deadline).values_list("pk", due_field)
        SlaEscalation.objects.bulk_create([SlaEscalation(complaint_id=pk, deadline=deadline, due_at=at) for pk, at in rows],
                                          ignore_conflicts=True, batch_size=2000)
    with transaction.atomic():
        fresh = list(SlaEscalation.objects.select_for_update().filter(notified_at__isnull=True).select_related("complaint"))
        SlaEscalation.objects.filter(pk__in=[e.pk for e in fresh]).update(notified_at=now)
        managers: dict[int | None, list[User]] = {}
        for escalation in fresh:
            complaint = escalation.complaint
            if complaint.department_id not in managers:
                managers[complaint.department_id] = _department_managers(complaint.department_id)
            for manager in managers[complaint.department_id]:
                queue_email(to=manager.email, template="service/email/escalation", language=manager.language or None,
                            context={"complaint": complaint, "escalation": escalation, "manager": manager},
                            about=f"complaint:{complaint.pk}")
            _timeline(complaint, _("Escalated: %(deadline)s deadline close") % {"deadline": escalation.get_deadline_display()}, None)
    return fresh


def send_complaint_digest(*, now: datetime.datetime | None = None) -> int:
    """The senior managers' daily digest: new, open, near breach, breached, defect alerts. Returns mails queued."""
    from guanxi.service.selectors import digest_figures

    now = now or timezone.now()
    figures = digest_figures(now=now)
    recipients = User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.ADMIN]).exclude(email="")
    with transaction.atomic():
        for user in recipients:
            queue_email(to=user.email, template="service/email/digest", language=user.language or None,
                        context={"figures": figures, "user": user, "day": timezone.localtime(now).date()}, about="complaint-digest")
    return recipients.count()


def count_breaches() -> dict[str, int]:
    """Deadlines missed so far: acknowledged late (or not yet, past due) and resolved late (or not yet, past due)."""
    now = timezone.now()
    late_ack = Complaint.objects.filter(acknowledged_at__gt=F("acknowledge_due_at")).count() + Complaint.objects.filter(
        acknowledged_at__isnull=True, acknowledge_due_at__lt=now, status__in=UNACKNOWLEDGED_STATUSES).count()
    late_resolve = Complaint.objects.filter(resolved_at__gt=F("resolve_due_at")).count() + Complaint.objects.filter(
        resolved_at__isnull=True, resolve_due_at__lt=now, status__in=UNRESOLVED_STATUSES).count()
    return {"acknowledge": late_ack, "resolve": late_resolve}



# --- One entry point for the edges (views, API): action name → service ---------------------------------

def _respond(satisfied: bool):
    def call(**kwargs):
        return record_customer_response(satisfied=satisfied, **kwargs)
    return call


ACTION_SERVICES = {
    "register": (register_complaint, {"customer", "create_customer_from_contact", *REGISTRATION_FIELDS}),
    "accept": (accept_complaint, {"note"}),
    "reject": (reject_complaint, {"reason"}),
    "assign_department": (assign_department, {"department", "handler"}),
    "analyse_cause": (analyse_cause, {"cause", "analysis"}),
    "propose_solution": (propose_solution, {"solution", "remedy_amount"}),
    "approve": (approve_solution, {"note"}),
    "send_back": (send_back_solution, {"reason"}),
    "carry_out": (carry_out_solution, {"note"}),
    "notify_customer": (notify_customer, {"message"}),
    "customer_satisfied": (_respond(True), {"rating", "note"}),
    "customer_unsatisfied": (_respond(False), {"rating", "note"}),
    "record_accountability": (record_accountability, {"responsible_person", "measure"}),
    "evaluate": (evaluate_complaint, {"evaluation"}),
    "archive": (archive_complaint, set()),
}
assert set(ACTION_SERVICES) == set(TRANSITIONS), "every move of the table has exactly one service"


def perform(*, action: str, complaint: Complaint, actor: User, expected_version: int, **data) -> Complaint:
    """Run the service for `action` with the fields it takes; anything else is refused naming the field."""
    if action not in ACTION_SERVICES:
        raise ValidationError({"action": _("Unknown action.")})
    func, accepted = ACTION_SERVICES[action]
    unknown = set(data) - accepted
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be set here.")})
    return func(complaint=complaint, actor=actor, expected_version=expected_version, **data)


def actions_for(actor: User, complaint: Complaint) -> list:
    """The moves this user may make now: allowed by the table, and approval only for those who may approve."""
    from guanxi.service.workflow import allowed_actions

    if not _is_handler(actor):
        return []
    moves = []
    for transition in allowed_actions(complaint.status):
        if transition.action == "approve" and not can_approve(actor, complaint):
            continue
        if transition.action == "send_back" and not _is_approver(actor):
            continue
        moves.append(transition)
    return moves


def sla_state(complaint: Complaint, *, now: datetime.datetime) -> str:
    """"breached", "near" (the SLA's warn share of the time is used) or "" — for highlighting lists."""
    if complaint.status in UNACKNOWLEDGED_STATUSES:
        due, warn = complaint.acknowledge_due_at, complaint.acknowledge_warn_at
    elif complaint.status in UNRESOLVED_STATUSES:
        due, warn = complaint.resolve_due_at, complaint.resolve_warn_at
    else:
        return ""
    if due is not None and now >= due:
        return "breached"
    return "near" if warn is not None and now >= warn else ""



# --- After-sales service: tickets, visits, parts, warranties, knowledge base ---------------------------

def _ticket_event(ticket, summary: str, actor: User | None) -> None:
    CustomerEvent.objects.create(customer_id=ticket.customer_id, verb="service", actor=actor,
                                 summary=f"{ticket.get_kind_display()} #{ticket.pk}: {summary}"[:500])


def _ensure_service_staff(actor: User, customer: Customer) -> None:
    if not Customer.objects.filter(pk=customer.pk).exists():
        raise Customer.DoesNotExist(_("No such customer."))
    if not (_is_handler(actor) or can_edit_customer(actor, customer)):
        raise PermissionDenied(_("You may not arrange service for this customer."))


def open_service_ticket(*, customer: Customer, kind: str, description: str, actor: User, order_line=None,
                        technician: User | None = None, partner=None):
    """Delivery, installation, commissioning, repair or training: handled by own staff or by a partner, not both."""
    from guanxi.service.models import ServiceTicket

    _ensure_service_staff(actor, customer)
    kind = clean_choice(kind, "kind", ServiceTicket.Kind)
    description = clean_text(description, "description", 10_000, required=True)
    if order_line is not None and order_line.order.customer_id != customer.pk:
        raise ValidationError({"order_line": _("The order line belongs to another customer.")})
    if technician is not None and partner is not None:
        raise ValidationError({"partner": _("Give the job to our own technician or to a partner, not both.")})
    if partner is not None and (partner.kind != partner.Kind.PARTNER or not partner.is_active):
        raise ValidationError({"partner": _("Choose an active partner.")})
    with transaction.atomic():
        ticket = ServiceTicket.objects.create(kind=kind, customer=customer, order_line=order_line, description=description,
                                              technician=technician, partner=partner, created_by=actor)
        _ticket_event(ticket, _("opened"), actor)
    return ticket


def schedule_visit(*, ticket, actor: User, expected_version: int, visit_at: datetime.datetime, address: str = ""):
    """Book the on-site visit; it must be in the future and someone (technician or partner) must go."""
    from guanxi.service.models import ServiceTicket

    _ensure_service_staff(actor, ticket.customer)
    if ticket.status not in (ServiceTicket.TicketStatus.OPEN, ServiceTicket.TicketStatus.SCHEDULED):
        raise ValidationError({"status": _("Only open tickets get visits.")})
    if visit_at is None or timezone.is_naive(visit_at) or visit_at <= timezone.now():
        raise ValidationError({"visit_at": _("Choose a time in the future.")})
    if ticket.technician_id is None and ticket.partner_id is None:
        raise ValidationError({"technician": _("Assign a technician or a partner first.")})
    ticket.visit_at, ticket.visit_address = visit_at, clean_text(address or ticket.customer.address, "address", 300)
    ticket.status = ServiceTicket.TicketStatus.SCHEDULED
    with transaction.atomic():
        save_versioned(ticket, expected_version=expected_version, fields=["visit_at", "visit_address", "status"])
        _ticket_event(ticket, _("visit on %(when)s") % {"when": timezone.localtime(visit_at).strftime("%Y-%m-%d %H:%M")}, actor)
    return ticket


def record_part(*, ticket, actor: User, description: str, quantity="1", unit_cost="0", product: Product | None = None):
    from guanxi.sales.services import _quantity
    from guanxi.service.models import TicketPart

    _ensure_service_staff(actor, ticket.customer)
    with transaction.atomic():
        return TicketPart.objects.create(ticket=ticket, product=product, description=clean_text(description, "description", 200, required=True),
                                         quantity=_quantity(quantity, "quantity"), unit_cost=money(unit_cost, "unit_cost"))


def complete_service_ticket(*, ticket, actor: User, expected_version: int, resolution: str):
    from guanxi.service.models import ServiceTicket

    _ensure_service_staff(actor, ticket.customer)
    if ticket.status in (ServiceTicket.TicketStatus.DONE, ServiceTicket.TicketStatus.CANCELLED):
        raise ValidationError({"status": _("The ticket is already closed.")})
    ticket.resolution = clean_text(resolution, "resolution", 10_000, required=True)
    ticket.status, ticket.completed_at = ServiceTicket.TicketStatus.DONE, timezone.now()
    with transaction.atomic():
        save_versioned(ticket, expected_version=expected_version, fields=["resolution", "status", "completed_at"])
        _ticket_event(ticket, _("done"), actor)
    return ticket


def register_warranty(*, order_line, actor: User, months: int | None = None, starts_on: datetime.date | None = None):
    """Warranty for one order line, from delivery (or the order date) for `months` (default: settings)."""
    from guanxi.service.models import Warranty

    _ensure_service_staff(actor, order_line.order.customer)
    months = months if months is not None else getattr(settings, "WARRANTY_MONTHS", 12)
    if not 1 <= months <= 240:
        raise ValidationError({"months": _("Between 1 and 240 months.")})
    start = starts_on or order_line.order.delivered_on or order_line.order.order_date
    year, month = divmod(start.month - 1 + months, 12)
    end_month_first = datetime.date(start.year + year, month + 1, 1)
    import calendar
    end = end_month_first.replace(day=min(start.day, calendar.monthrange(end_month_first.year, end_month_first.month)[1]))
    with transaction.atomic():
        warranty, _created = Warranty.objects.update_or_create(
            order_line=order_line,
            defaults={"customer_id": order_line.order.customer_id, "product_id": order_line.product_id, "starts_on": start,
                      "ends_on": end - datetime.timedelta(days=1)},
        )
        CustomerEvent.objects.create(customer_id=warranty.customer_id, verb="warranty", actor=actor, summary=(
            _("Warranty for %(product)s until %(date)s") % {"product": order_line.product.name, "date": warranty.ends_on.isoformat()})[:500])
    return warranty


def remind_expiring_warranties(*, today: datetime.date | None = None, days_ahead: int | None = None) -> int:
    """E-mail each customer once before a warranty ends (the conditional UPDATE claims each reminder)."""
    from guanxi.service.models import Warranty

    today = today or timezone.localdate()
    days_ahead = days_ahead if days_ahead is not None else getattr(settings, "WARRANTY_REMINDER_DAYS", 30)
    due = Warranty.objects.filter(reminded_at__isnull=True, ends_on__gte=today, ends_on__lte=today + datetime.timedelta(days=days_ahead))
    sent = 0
    for warranty in due.select_related("customer", "product")[:5000]:
        with transaction.atomic():
            if not Warranty.objects.filter(pk=warranty.pk, reminded_at__isnull=True).update(reminded_at=timezone.now()):
                continue
            customer = warranty.customer
            CustomerEvent.objects.create(customer=customer, verb="warranty", summary=(
                _("Warranty for %(product)s ends on %(date)s") % {"product": warranty.product.name, "date": warranty.ends_on.isoformat()})[:500])
            if customer.email and not customer.is_opted_out:
                queue_email(to=customer.email, template="service/email/warranty_reminder", context={"warranty": warranty},
                            customer=customer, about=f"warranty:{warranty.pk}")
            sent += 1
    return sent


def save_article(*, actor: User, question: str, answer: str, keywords: str = "", product: Product | None = None,
                 article=None, expected_version: int | None = None, is_published: bool = True):
    """Write a knowledge-base answer (new, or an edit under optimistic locking)."""
    from guanxi.service.models import KnowledgeArticle

    if not _is_handler(actor):
        raise PermissionDenied(_("Only service staff edit the knowledge base."))
    fields = {"question": clean_text(question, "question", 300, required=True), "answer": clean_text(answer, "answer", 20_000, required=True),
              "keywords": clean_text(keywords, "keywords", 300), "product": product, "is_published": bool(is_published)}
    with transaction.atomic():
        if article is None:
            return KnowledgeArticle.objects.create(created_by=actor, **fields)
        for name, value in fields.items():
            setattr(article, name, value)
        return save_versioned(article, expected_version=expected_version or -1, fields=list(fields))


def receive_email_complaint(*, raw: bytes) -> Complaint:
    """A complaint that arrived by e-mail (piped in by the mail server): sender, subject and text become the case."""
    import email
    import email.policy
    import email.utils

    message = email.message_from_bytes(raw, policy=email.policy.default)
    name, address = email.utils.parseaddr(str(message.get("From", "")))
    part = message.get_body(preferencelist=("plain", "html"))
    text = part.get_content() if part is not None else ""
    if part is not None and part.get_content_type() == "text/html":
        import nh3

        text = nh3.clean(text, tags=set())
    subject = " ".join(str(message.get("Subject", "")).split())
    description = (f"{subject}\n\n{text}" if subject else text).strip()[:10_000]
    address = _clean_email(address, "email")
    customer = find_complainant(email=address, phone="")
    return receive_complaint(channel=Channel.EMAIL, description=description, customer=customer, contact_name=name[:100],
                             contact_email=address)
