"""API routes for scores, scoring runs, warnings, look-alikes and exports: thin edges over services
and selectors. Objects outside the user's view are 404s (the root API maps DoesNotExist)."""

import datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from guanxi.core.schemas import Date, Id, PageParams, Text
from guanxi.insights import selectors, services
from guanxi.customers.models import LostReason
from guanxi.insights.models import Grade, ScoringRun, Stage, ValueSegment, Warning, WarningKind, WinBack
from guanxi.insights.tasks import score_customers
from guanxi.sales.api import Ref, UserRef, page

router = Router(tags=["insights"])

GradeIn = Literal[tuple(Grade.values)]
SegmentIn = Literal[tuple(ValueSegment.values)]
StageIn = Literal[tuple(Stage.values)]
WarningStatusIn = Literal[tuple(Warning.Status.values)]
WarningKindIn = Literal[tuple(WarningKind.values)]


class ScoreOut(Schema):
    customer: Ref
    run_id: int
    recency_score: int
    frequency_score: int
    monetary_score: int
    rfm_cell: int
    value_segment: str
    behaviour_segment: str
    grade: str
    stage: str
    spend_tier: str
    orders: int
    revenue: Decimal
    margin: Decimal
    cost_to_serve: Decimal
    profit: Decimal
    spend_12m: Decimal
    first_order_on: datetime.date
    last_order_on: datetime.date
    p_alive: float | None
    expected_purchases_90d: float | None
    clv: Decimal | None


class ScorePage(Schema):
    items: list[ScoreOut]
    count: int
    count_capped: bool


class GradeMoveOut(Schema):
    from_grade: str
    grade: str
    on: datetime.date


class PolicyOut(Schema):
    grade: str
    with_potential: bool
    name: str
    actions: str
    account_manager: bool
    contact_every_days: int | None
    payment_terms: str
    credit_freeze: bool


class RelationshipValueOut(Schema):
    margin_to_date: Decimal
    clv: Decimal | None
    referral_value: Decimal
    referred_customers: int
    spend_12m: Decimal


class CustomerScoresOut(Schema):
    current: ScoreOut | None
    history: list[ScoreOut]
    grade_history: list[GradeMoveOut]
    policy: PolicyOut | None
    relationship_value: RelationshipValueOut


class RunOut(Schema):
    id: int
    as_of: datetime.date
    status: str
    is_current: bool
    progress: int
    phase: str
    customers: int
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    started_by: UserRef | None
    error: str


class RunPage(Schema):
    items: list[RunOut]
    count: int
    count_capped: bool


class RunIn(Schema):
    as_of: Date | None = None


class WarningOut(Schema):
    id: int
    kind: str
    customer: Ref | None
    assignee: UserRef | None
    status: str
    message: str
    suggestion: str
    data: dict
    note: str
    created_at: datetime.datetime
    acknowledged_at: datetime.datetime | None
    resolved_at: datetime.datetime | None


class WarningPage(Schema):
    items: list[WarningOut]
    count: int
    count_capped: bool


class NoteIn(Schema):
    note: Text(2000) = ""


class LookAlikeOut(Schema):
    customer: Ref
    score: float


# --- Scores --------------------------------------------------------------------------------------------

@router.get("/scores", response=ScorePage)
def list_scores(request, params: Query[PageParams], grade: GradeIn | None = None, segment: SegmentIn | None = None,
                stage: StageIn | None = None, owner: Id | None = None):
    """The current run's scores of the customers you can see, highest CLV first."""
    return page(selectors.current_scores(request.auth, grade=grade, value_segment=segment, stage=stage, owner=owner), params)


@router.get("/customers/{customer_id}/scores", response=CustomerScoresOut)
def customer_scores(request, customer_id: Id):
    user = request.auth
    history = list(selectors.customer_scores(user, customer_id).select_related("customer"))
    current = next((s for s in history if s.run.is_current), None)
    return {
        "current": current,
        "history": history,
        "grade_history": list(selectors.grade_history(user, customer_id)[:100]),
        "policy": selectors.service_policy_for(user, customer_id),
        "relationship_value": selectors.relationship_value(user, customer_id),
    }


# --- Scoring runs ------------------------------------------------------------------------------------------

@router.get("/scoring-runs", response=RunPage)
def list_runs(request, params: Query[PageParams]):
    return page(selectors.scoring_runs(), params)


@router.get("/scoring-runs/{run_id}", response=RunOut)
def get_run(request, run_id: Id):
    return selectors.scoring_runs().get(pk=run_id)


@router.post("/scoring-runs", response={202: RunOut})
def start_run(request, data: RunIn):
    """Managers and administrators start a run; the `bulk` queue scores it (poll this run for progress)."""
    if not services.may_run_scoring(request.auth):
        raise HttpError(403, _("Only managers and administrators run scoring."))
    run = services.start_scoring_run(as_of=data.as_of, actor=request.auth)
    score_customers.enqueue(run_id=run.pk)
    return Status(202, ScoringRun.objects.select_related("started_by").get(pk=run.pk))


# --- Warnings ---------------------------------------------------------------------------------------------------

@router.get("/warnings", response=WarningPage)
def list_warnings(request, params: Query[PageParams], status: WarningStatusIn | None = None,
                  kind: WarningKindIn | None = None, customer: Id | None = None, mine: bool = False):
    return page(selectors.warnings_inbox(request.auth, status=status, kind=kind, customer=customer, mine=mine), params)


@router.get("/warnings/{warning_id}", response=WarningOut)
def get_warning(request, warning_id: Id):
    return selectors.warnings_inbox(request.auth).get(pk=warning_id)


def _handle(request, warning_id: int, action, data: NoteIn):
    warning = selectors.visible_warnings(request.auth).get(pk=warning_id)
    try:
        action(warning=warning, actor=request.auth, note=data.note)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return selectors.warnings_inbox(request.auth).get(pk=warning_id)


@router.post("/warnings/{warning_id}/acknowledge", response=WarningOut)
def acknowledge(request, warning_id: Id, data: NoteIn):
    return _handle(request, warning_id, services.acknowledge_warning, data)


@router.post("/warnings/{warning_id}/resolve", response=WarningOut)
def resolve(request, warning_id: Id, data: NoteIn):
    return _handle(request, warning_id, services.resolve_warning, data)


# --- Look-alikes and exports ------------------------------------------------------------------------------------

@router.get("/products/{product_id}/lookalikes", response=list[LookAlikeOut])
def product_lookalikes(request, product_id: Id, limit: int = Query(20, ge=1, le=200)):
    """Customers you can see who have not bought the product and buy most like those who have."""
    return [{"customer": c, "score": s} for c, s in selectors.product_lookalikes(request.auth, product_id, limit=limit)]


@router.get("/exports/customers")
def export_customers(request, fmt: Literal["csv", "xlsx"] = "csv", state: Text(16) | None = None,
                     owner: Id | None = None, grade: GradeIn | None = None, segment: SegmentIn | None = None,
                     tag: Text(50) | None = None, search: Text(100) | None = None):
    """A customer list as CSV or XLSX, for administrators and managers; every export is recorded."""
    filters = {k: v for k, v in {"state": state, "owner": owner, "grade": grade, "value_segment": segment,
                                 "tag": tag, "search": search}.items() if v}
    try:
        name, content_type, chunks = services.export_customers(user=request.auth, filters=filters, fmt=fmt)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- Lost customers and win-back --------------------------------------------------------------------------------

WinBackStatusIn = Literal[tuple(WinBack.Status.values)]
LostReasonIn = Literal[(*LostReason.values, "none")]
WinBackOutcomeIn = Literal["attempted", "won_back", "unprompted"]


class WinBackOut(Schema):
    id: int
    customer: Ref
    lost_on: datetime.date
    reason_category: str
    reason: str
    owner: UserRef | None
    status: str
    task_id: int | None
    started_at: datetime.datetime | None
    ended_on: datetime.date | None
    outcome: str
    revenue_regained: Decimal
    note: str

    @staticmethod
    def resolve_reason(obj) -> str:
        return obj.lost_change.reason


class WinBackPage(Schema):
    items: list[WinBackOut]
    count: int
    count_capped: bool


class ReasonOut(Schema):
    reason: str
    lost: int
    won_back: int
    share: int


class SuccessOut(Schema):
    key: str | None
    label: str
    lost: int
    attempted: int
    won_back: int
    rate: float | None
    unprompted: int
    median_days: float | None
    revenue_regained: Decimal


class WinBackStatsOut(Schema):
    by: str
    reasons: list[ReasonOut]
    rows: list[SuccessOut]
    total: SuccessOut


def _success(row) -> dict:
    return {"key": None if row.key is None else str(row.key), "label": row.label, "lost": row.lost, "attempted": row.attempted,
            "won_back": row.won_back, "rate": row.rate, "unprompted": row.unprompted, "median_days": row.median_days,
            "revenue_regained": row.revenue_regained}


@router.get("/winbacks", response=WinBackPage)
def list_winbacks(request, params: Query[PageParams], status: WinBackStatusIn | None = None, reason: LostReasonIn | None = None,
                  owner: Id | None = None, start: Date | None = None, end: Date | None = None,
                  outcome: WinBackOutcomeIn | None = None):
    """Lost customers you can see, one row per lost episode with its reason and win-back, newest loss first.
    `reason=none` lists the losses recorded without a category."""
    category = "" if reason == "none" else reason
    return page(selectors.winbacks(request.auth, status=status, reason=category, owner=owner, start=start, end=end,
                                   outcome=outcome), params)


@router.get("/winbacks/stats", response=WinBackStatsOut)
def winback_stats(request, by: Literal["month", "reason", "owner"] = "month", owner: Id | None = None,
                  start: Date | None = None, end: Date | None = None):
    """Reasons breakdown and win-back success per month lost, reason or owner (rate = won back ÷ started)."""
    figures = selectors.WinBackFigures(request.auth, owner=owner, start=start, end=end)
    return {"by": by, "reasons": figures.reasons(), "rows": [_success(r) for r in figures.success(by)],
            "total": _success(figures.total())}


def _winback_action(request, winback_id: int, action, **kwargs):
    winback = selectors.visible_winbacks(request.auth).select_related("customer", "owner", "lost_change").get(pk=winback_id)
    try:
        action(winback=winback, actor=request.auth, **kwargs)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return selectors.winbacks(request.auth).get(pk=winback_id)


@router.post("/winbacks/{winback_id}/start", response=WinBackOut)
def start_winback(request, winback_id: Id):
    """Open the win-back task (the steps as its checklist) for the owner."""
    return _winback_action(request, winback_id, services.start_winback)


@router.post("/winbacks/{winback_id}/give-up", response=WinBackOut)
def give_up_winback(request, winback_id: Id, data: NoteIn):
    """End the win-back with a note (required); its open task is cancelled."""
    return _winback_action(request, winback_id, services.give_up_winback, note=data.note)
