"""API routes for interactions, tasks and the customer timeline: thin edges over services and selectors."""

import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from guanxi.accounts.models import Team
from guanxi.core.schemas import Id, LongText, PageParams, Text, Version
from guanxi.customers.models import Contact
from guanxi.customers.timeline import MAX_LIMIT, customer_timeline
from guanxi.engagement import selectors, services
from guanxi.engagement.models import Channel, ContentType, Direction, SalesPhase, Task
from guanxi.sales.api import Ref, UserRef, customer_in_view, forbidden_as_403, page, user_or_422
from guanxi.sales.selectors import opportunities_for

router = Router(tags=["engagement"])

ChannelIn = Literal[tuple(Channel.values)]
DirectionIn = Literal[tuple(Direction.values)]
ContentTypeIn = Literal[tuple(ContentType.values)]
PhaseIn = Literal[tuple(SalesPhase.values)]
TaskStatusIn = Literal[tuple(Task.Status.values)]
PriorityIn = Literal[tuple(Task.Priority.values)]
Search = Text(100)
# Aware datetimes within a sane range; a naive one is read in the site's time zone.
When = datetime.datetime


# --- Interactions --------------------------------------------------------------------------

class InteractionOut(Schema):
    id: int
    customer: Ref
    contact_id: int | None
    channel: str
    direction: str
    content_type: str
    phase: str
    subject: str
    body: str
    occurred_at: datetime.datetime
    actor: UserRef | None


class InteractionIn(Schema):
    customer: Id
    channel: ChannelIn
    direction: DirectionIn
    subject: Text(200, min_length=1)
    content_type: ContentTypeIn = "information"
    phase: PhaseIn = "before"
    body: LongText = ""
    occurred_at: When | None = None
    contact: Id | None = None


class InteractionPage(Schema):
    items: list[InteractionOut]
    count: int
    count_capped: bool


def _in_range(value: datetime.datetime | None, field: str) -> datetime.datetime | None:
    if value is not None and not (1900 <= value.year <= 2999):
        raise ValidationError({field: _("Enter a date between 1900 and 2999.")})
    return value


@router.get("/interactions", response=InteractionPage)
def list_interactions(request, params: Query[PageParams], customer: Id | None = None, channel: ChannelIn | None = None,
                      direction: DirectionIn | None = None, phase: PhaseIn | None = None,
                      content_type: ContentTypeIn | None = None, search: Search | None = None):
    queryset = selectors.interactions_for(request.auth, customer, channel=channel, direction=direction, phase=phase,
                                          content_type=content_type, search=search)
    return page(queryset, params)


@router.post("/interactions", response={201: InteractionOut})
def log_interaction(request, payload: InteractionIn):
    user = request.auth
    customer = customer_in_view(user, payload.customer)
    contact = None
    if payload.contact is not None:
        contact = Contact.objects.filter(pk=payload.contact, customer=customer).first()
        if contact is None:
            raise ValidationError({"contact": _("Unknown contact for this customer.")})
    with forbidden_as_403():
        interaction = services.log_interaction(
            customer=customer, channel=payload.channel, direction=payload.direction, subject=payload.subject,
            actor=user, content_type=payload.content_type, phase=payload.phase, body=payload.body,
            occurred_at=_in_range(payload.occurred_at, "occurred_at"), contact=contact,
        )
    return Status(201, selectors.interactions_for(user).get(pk=interaction.pk))


@router.get("/interactions/{interaction_id}", response=InteractionOut)
def get_interaction(request, interaction_id: Id):
    return selectors.interactions_for(request.auth).get(pk=interaction_id)


# --- Tasks ---------------------------------------------------------------------------------

class TeamRef(Schema):
    id: int
    name: str


class TaskOut(Schema):
    id: int
    title: str
    description: str
    customer: Ref | None
    opportunity_id: int | None
    assignee: UserRef | None
    assignee_team: TeamRef | None
    due_at: datetime.datetime | None
    priority: int
    status: str
    completed_at: datetime.datetime | None
    version: int


class TaskIn(Schema):
    title: Text(200, min_length=1)
    description: LongText = ""
    assignee: Id | None = None
    assignee_team: Id | None = None
    due_at: When | None = None
    customer: Id | None = None
    opportunity: Id | None = None
    priority: PriorityIn = Task.Priority.NORMAL.value


class TaskPatch(Schema):
    version: Version
    title: Text(200, min_length=1) | None = None
    description: LongText | None = None
    due_at: When | None = None
    priority: PriorityIn | None = None


class ReassignIn(Schema):
    version: Version
    assignee: Id | None = None
    assignee_team: Id | None = None


class VersionIn(Schema):
    version: Version


class TaskPage(Schema):
    items: list[TaskOut]
    count: int
    count_capped: bool


def _team_or_422(pk: int | None) -> Team | None:
    if pk is None:
        return None
    team = Team.objects.filter(pk=pk).first()
    if team is None:
        raise ValidationError({"assignee_team": _("Unknown team.")})
    return team


def _task(user, task_id: int) -> Task:
    return selectors.visible_tasks(user).get(pk=task_id)


@router.get("/tasks", response=TaskPage)
def list_tasks(request, params: Query[PageParams], mine: bool = False, status: TaskStatusIn | None = None,
               due: Literal["overdue", "today", "upcoming"] | None = None, customer: Id | None = None,
               search: Search | None = None):
    return page(selectors.tasks_for(request.auth, mine=mine, status=status, due=due, customer=customer, search=search), params)


@router.post("/tasks", response={201: TaskOut})
def create_task(request, payload: TaskIn):
    user = request.auth
    customer = customer_in_view(user, payload.customer) if payload.customer is not None else None
    opportunity = None
    if payload.opportunity is not None:
        opportunity = opportunities_for(user).filter(pk=payload.opportunity).first()
        if opportunity is None:
            raise ValidationError({"opportunity": _("Unknown opportunity.")})
    with forbidden_as_403():
        task = services.create_task(
            title=payload.title, actor=user, assignee=user_or_422(payload.assignee, "assignee"),
            assignee_team=_team_or_422(payload.assignee_team), due_at=_in_range(payload.due_at, "due_at"),
            customer=customer, opportunity=opportunity, description=payload.description, priority=payload.priority,
        )
    return Status(201, _task(user, task.pk))


@router.get("/tasks/{task_id}", response=TaskOut)
def get_task(request, task_id: Id):
    return _task(request.auth, task_id)


@router.patch("/tasks/{task_id}", response=TaskOut)
def update_task(request, task_id: Id, payload: TaskPatch):
    task = _task(request.auth, task_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    if "due_at" in data:
        _in_range(data["due_at"], "due_at")
    with forbidden_as_403():
        services.update_task(task=task, actor=request.auth, expected_version=version, **data)
    return _task(request.auth, task_id)


@router.post("/tasks/{task_id}/complete", response=TaskOut)
def complete_task(request, task_id: Id, payload: VersionIn):
    task = _task(request.auth, task_id)
    with forbidden_as_403():
        services.complete_task(task=task, actor=request.auth, expected_version=payload.version)
    return _task(request.auth, task_id)


@router.post("/tasks/{task_id}/reopen", response=TaskOut)
def reopen_task(request, task_id: Id, payload: VersionIn):
    task = _task(request.auth, task_id)
    with forbidden_as_403():
        services.reopen_task(task=task, actor=request.auth, expected_version=payload.version)
    return _task(request.auth, task_id)


@router.post("/tasks/{task_id}/reassign", response=TaskOut)
def reassign_task(request, task_id: Id, payload: ReassignIn):
    task = _task(request.auth, task_id)
    with forbidden_as_403():
        services.reassign_task(task=task, actor=request.auth, expected_version=payload.version,
                               assignee=user_or_422(payload.assignee, "assignee"),
                               assignee_team=_team_or_422(payload.assignee_team))
    return _task(request.auth, task_id)


# --- Timeline ------------------------------------------------------------------------------

class TimelineItemOut(Schema):
    kind: str
    at: datetime.datetime
    title: str
    detail: str
    actor: str | None
    ref: str
    cursor: str


class TimelinePage(Schema):
    items: list[TimelineItemOut]
    next: str | None = Field(None, description="Pass as `before` for the next page; null at the end.")


@router.get("/customers/{customer_id}/timeline", response=TimelinePage)
def timeline(request, customer_id: Id, limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 50, before: Text(100) | None = None):
    items = customer_timeline(request.auth, customer_id, limit=limit, before=before or None)
    return {"items": items, "next": items[-1].cursor if len(items) == limit else None}
