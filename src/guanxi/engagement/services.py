"""Every write to interactions and tasks.

Same rules as the sales services: keyword-only, validated (errors name the field), atomic,
and traced on the customer's timeline with the actor. Interactions and tasks are timeline
sources themselves; completing, reopening and reassigning a task add a CustomerEvent.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import Team, User
from guanxi.core.locking import save_versioned
from guanxi.core.visibility import can_edit_customer, is_read_only
from guanxi.customers.models import Contact, Customer, CustomerEvent
from guanxi.engagement.models import Channel, ContentType, Direction, Interaction, SalesPhase, Task
from guanxi.engagement.selectors import visible_tasks
from guanxi.sales.models import Opportunity
from guanxi.sales.services import clean_choice, clean_text, ensure_can_edit_customer


def _event(task: Task, verb: str, summary: str, actor: User) -> None:
    if task.customer_id:
        CustomerEvent.objects.create(customer_id=task.customer_id, verb=verb, summary=summary[:500], actor=actor)


def _aware(value, field: str) -> datetime.datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime.datetime):
        raise ValidationError({field: _("Enter a date and time.")})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


# --- Interactions --------------------------------------------------------------------------

def log_interaction(*, customer: Customer, channel: str, direction: str, subject: str, actor: User,
                    content_type: str = ContentType.INFORMATION, phase: str = SalesPhase.BEFORE, body: str = "",
                    occurred_at: datetime.datetime | None = None, contact: Contact | None = None) -> Interaction:
    """Record one contact with a customer, in either direction, so every department sees it."""
    ensure_can_edit_customer(actor, customer)
    channel = clean_choice(channel, "channel", Channel)
    direction = clean_choice(direction, "direction", Direction)
    content_type = clean_choice(content_type, "content_type", ContentType)
    phase = clean_choice(phase, "phase", SalesPhase)
    subject = clean_text(subject, "subject", 200, required=True)
    body = clean_text(body, "body", 20_000)
    occurred_at = _aware(occurred_at, "occurred_at") or timezone.now()
    if occurred_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("An interaction cannot happen in the future.")})
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": _("The contact belongs to another customer.")})
    with transaction.atomic():
        return Interaction.objects.create(
            customer=customer, contact=contact, channel=channel, direction=direction, content_type=content_type,
            phase=phase, subject=subject, body=body, occurred_at=occurred_at, actor=actor,
        )


# --- Tasks ---------------------------------------------------------------------------------

def ensure_can_change_task(actor: User, task: Task) -> None:
    """The assignee, their team, the creator, or anyone who may edit the customer changes a task."""
    if not visible_tasks(actor).filter(pk=task.pk).exists():
        raise Task.DoesNotExist(_("No such task."))
    if not actor.is_active:
        raise PermissionDenied
    involved = task.assignee_id == actor.pk or task.created_by_id == actor.pk or (
        actor.team_id is not None and task.assignee_team_id == actor.team_id
    )
    if involved:
        return
    if task.customer_id is not None and can_edit_customer(actor, task.customer):
        return
    if task.customer_id is None and actor.is_superuser:
        return
    raise PermissionDenied(_("You may not change this task."))


def _check_assignee(assignee: User | None, team: Team | None) -> None:
    if assignee is None and team is None:
        raise ValidationError({"assignee": _("Assign the task to a person or a team.")})
    if assignee is not None and not assignee.is_active:
        raise ValidationError({"assignee": _("The assignee is not an active user.")})


def create_task(*, title: str, actor: User, assignee: User | None = None, assignee_team: Team | None = None,
                due_at: datetime.datetime | None = None, customer: Customer | None = None,
                opportunity: Opportunity | None = None, description: str = "",
                priority: int = Task.Priority.NORMAL) -> Task:
    """A to-do for a person or a team, optionally about a customer or an opportunity."""
    if opportunity is not None:
        if customer is not None and opportunity.customer_id != customer.pk:
            raise ValidationError({"opportunity": _("The opportunity belongs to another customer.")})
        customer = customer or opportunity.customer
    if customer is not None:
        ensure_can_edit_customer(actor, customer)
    elif not actor.is_active or is_read_only(actor):
        raise PermissionDenied(_("You may not create tasks."))
    _check_assignee(assignee, assignee_team)
    if priority not in Task.Priority.values:
        raise ValidationError({"priority": _("Choose low, normal or high.")})
    task = Task(
        title=clean_text(title, "title", 200, required=True), description=clean_text(description, "description", 20_000),
        customer=customer, opportunity=opportunity, assignee=assignee, assignee_team=assignee_team,
        due_at=_aware(due_at, "due_at"), priority=priority, created_by=actor,
    )
    with transaction.atomic():
        task.save()
    return task


TASK_FIELDS = ("title", "description", "due_at", "priority")


def update_task(*, task: Task, actor: User, expected_version: int, **fields) -> Task:
    """Edit a task's wording, due time or priority unless someone saved it since `expected_version`."""
    ensure_can_change_task(actor, task)
    unknown = set(fields) - set(TASK_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be set here.")})
    if "title" in fields:
        fields["title"] = clean_text(fields["title"], "title", 200, required=True)
    if "description" in fields:
        fields["description"] = clean_text(fields["description"], "description", 20_000)
    if "due_at" in fields:
        fields["due_at"] = _aware(fields["due_at"], "due_at")
    if "priority" in fields and fields["priority"] not in Task.Priority.values:
        raise ValidationError({"priority": _("Choose low, normal or high.")})
    for name, value in fields.items():
        setattr(task, name, value)
    with transaction.atomic():
        save_versioned(task, expected_version=expected_version, fields=list(fields))
    return task


def complete_task(*, task: Task, actor: User, expected_version: int) -> Task:
    ensure_can_change_task(actor, task)
    if task.status != Task.Status.OPEN:
        raise ValidationError({"status": _("Only an open task can be completed.")})
    task.status, task.completed_at = Task.Status.DONE, timezone.now()
    with transaction.atomic():
        save_versioned(task, expected_version=expected_version, fields=["status", "completed_at"])
        _event(task, "task_completed", _("Task “%(title)s” done") % {"title": task.title}, actor)
    return task


def reopen_task(*, task: Task, actor: User, expected_version: int) -> Task:
    ensure_can_change_task(actor, task)
    if task.status == Task.Status.OPEN:
        raise ValidationError({"status": _("The task is already open.")})
    task.status, task.completed_at = Task.Status.OPEN, None
    with transaction.atomic():
        save_versioned(task, expected_version=expected_version, fields=["status", "completed_at"])
        _event(task, "task_reopened", _("Task “%(title)s” reopened") % {"title": task.title}, actor)
    return task


def reassign_task(*, task: Task, actor: User, expected_version: int, assignee: User | None = None,
                  assignee_team: Team | None = None) -> Task:
    """Hand a task to another person or team (offboarding, workload)."""
    ensure_can_change_task(actor, task)
    _check_assignee(assignee, assignee_team)
    task.assignee, task.assignee_team = assignee, assignee_team
    with transaction.atomic():
        save_versioned(task, expected_version=expected_version, fields=["assignee_id", "assignee_team_id"])
        _event(task, "task_reassigned", _("Task “%(title)s” assigned to %(who)s") % {"title": task.title, "who": assignee or assignee_team}, actor)
    return task
