"""API routes for complaints and dissatisfaction records: thin edges over the service's services and selectors."""

import datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from guanxi.accounts.models import Department
from guanxi.core.schemas import Date, Id, LongText, Money, PageParams, Text, Version
from guanxi.sales.api import Ref, UserRef, customer_in_view, forbidden_as_403, page, user_or_422
from guanxi.sales.models import Order, Product
from guanxi.service import selectors, services, statistics
from guanxi.service.workflow import IANA, TRANSITIONS

router = Router(tags=["service"])
Choice = Text(40)
Rating = Annotated[int, Field(ge=1, le=5)]


class ComplaintOut(Schema):
    id: int
    reference: str
    status: str
    customer: Ref | None
    contact_name: str
    channel: str
    category: str
    severity: str
    caused_by: str
    concerns: str
    reaction: str
    description: str
    desired_outcome: str
    product_id: int | None
    order_id: int | None
    department_id: int | None
    handler: UserRef | None
    cause: str | None = None
    solution: str
    remedy_amount: Decimal
    currency: str
    reopen_count: int
    handling_rating: int | None
    received_at: datetime.datetime
    acknowledged_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    acknowledge_due_at: datetime.datetime | None
    resolve_due_at: datetime.datetime | None
    version: int

    @staticmethod
    def resolve_cause(obj) -> str | None:
        return obj.cause.name if obj.cause_id else None


class StepOut(Schema):
    action: str
    from_status: str
    to_status: str
    note: str
    actor: UserRef | None
    at: datetime.datetime


class ComplaintDetailOut(ComplaintOut):
    steps: list[StepOut]
    next_actions: list[str]
    iana: str


class ComplaintPage(Schema):
    items: list[ComplaintOut]
    count: int
    count_capped: bool


class ComplaintIn(Schema):
    channel: Choice
    description: Text(10_000, min_length=1)
    customer: Id | None = None
    contact_name: Text(100) = ""
    contact_email: Text(254) = ""
    contact_phone: Text(32) = ""
    category: Choice = "other"
    severity: Choice = "medium"
    product: Id | None = None
    order: Id | None = None
    desired_outcome: Text(5_000) = ""


class ActionIn(Schema):
    """The fields of the move being made; fields another move takes are refused (422 naming the field)."""

    version: Version
    customer: Id | None = None
    create_customer_from_contact: bool | None = None
    channel: Choice | None = None
    order: Id | None = None
    product: Id | None = None
    category: Choice | None = None
    caused_by: Choice | None = None
    concerns: Choice | None = None
    severity: Choice | None = None
    reaction: Choice | None = None
    description: Text(10_000) | None = None
    desired_outcome: Text(5_000) | None = None
    note: Text(2_000) | None = None
    reason: Text(5_000) | None = None
    department: Id | None = None
    handler: Id | None = None
    cause: Text(100) | None = None
    analysis: LongText | None = None
    solution: Text(10_000) | None = None
    remedy_amount: Money | None = None
    message: Text(5_000) | None = None
    rating: Rating | None = None
    responsible_person: Text(100) | None = None
    measure: Text(5_000) | None = None
    evaluation: LongText | None = None


class DissatisfactionIn(Schema):
    customer: Id
    reaction: Choice = "silent"
    category: Choice = "other"
    product: Id | None = None
    note: Text(5_000) = ""


class DissatisfactionOut(Schema):
    id: int
    customer: Ref
    reaction: str
    category: str
    product_id: int | None
    note: str
    observed_at: datetime.datetime


def _product(pk: int | None):
    if pk is None:
        return None
    product = Product.objects.filter(pk=pk).first()
    if product is None:
        raise ValidationError({"product": _("Unknown product.")})
    return product


def _order(user, pk: int | None):
    if pk is None:
        return None
    from guanxi.core.visibility import visible_related

    order = visible_related(user, Order.objects.all()).filter(pk=pk).first()
    if order is None:
        raise ValidationError({"order": _("Unknown order.")})
    return order


def _detail(user, complaint) -> dict:
    data = ComplaintOut.from_orm(complaint).dict()
    data["steps"] = list(selectors.complaint_steps(complaint))
    data["next_actions"] = [t.action for t in services.actions_for(user, complaint)]
    data["iana"] = str(IANA.get(complaint.status, ("", ""))[1])
    return data


@router.get("/complaints", response=ComplaintPage)
def list_complaints(request, params: Query[PageParams], status: Choice | None = None, severity: Choice | None = None,
                    category: Choice | None = None, customer: Id | None = None, open: bool = False, search: Text(100) | None = None):
    queryset = selectors.complaint_list(request.auth, status=status, severity=severity, category=category, customer=customer,
                                        open_only=open, search=search).select_related("cause")
    return page(queryset, params)


@router.post("/complaints", response={201: ComplaintDetailOut})
def create_complaint(request, payload: ComplaintIn):
    data = payload.dict()
    data["customer"] = customer_in_view(request.auth, data["customer"]) if data["customer"] else None
    data["product"] = _product(data["product"])
    data["order"] = _order(request.auth, data["order"])
    with forbidden_as_403():
        complaint = services.receive_complaint(actor=request.auth, **data)
    return Status(201, _detail(request.auth, selectors.complaint_detail(request.auth, complaint.pk)))


@router.get("/complaints/statistics")
def complaint_statistics(request, days: Annotated[int, Field(ge=1, le=3660)] = 365):
    return statistics.complaint_statistics(request.auth, days=days)


@router.get("/complaints/{complaint_id}", response=ComplaintDetailOut)
def get_complaint(request, complaint_id: Id):
    return _detail(request.auth, selectors.complaint_detail(request.auth, complaint_id))


@router.post("/complaints/{complaint_id}/actions/{action}", response=ComplaintDetailOut)
def act_on_complaint(request, complaint_id: Id, action: Text(40), payload: ActionIn):
    """Make one move of the workflow (see `next_actions`); a move not allowed from the current state is 422."""
    complaint = selectors.complaint_detail(request.auth, complaint_id)
    if action not in TRANSITIONS:
        raise ValidationError({"action": _("Unknown action.")})
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    user = request.auth
    if "customer" in data:
        data["customer"] = customer_in_view(user, data["customer"]) if data["customer"] else None
    if "department" in data:
        data["department"] = Department.objects.filter(pk=data["department"]).first() if data["department"] else None
        if data["department"] is None:
            raise ValidationError({"department": _("Unknown department.")})
    if "handler" in data:
        data["handler"] = user_or_422(data["handler"], "handler")
    if "product" in data:
        data["product"] = _product(data["product"])
    if "order" in data:
        data["order"] = _order(user, data["order"])
    with forbidden_as_403():
        services.perform(action=action, complaint=complaint, actor=user, expected_version=version, **data)
    return _detail(user, selectors.complaint_detail(user, complaint_id))


@router.post("/complaints/{complaint_id}/take-over", response=ComplaintDetailOut)
def take_over_complaint(request, complaint_id: Id):
    complaint = selectors.complaint_detail(request.auth, complaint_id)
    with forbidden_as_403():
        services.take_over(complaint=complaint, actor=request.auth)
    return _detail(request.auth, selectors.complaint_detail(request.auth, complaint_id))


@router.get("/dissatisfactions", response=list[DissatisfactionOut])
def list_dissatisfactions(request, customer: Id | None = None, limit: Annotated[int, Field(ge=1, le=500)] = 50):
    return list(selectors.dissatisfaction_for(request.auth, customer)[:limit])


@router.post("/dissatisfactions", response={201: DissatisfactionOut})
def record_dissatisfaction(request, payload: DissatisfactionIn):
    data = payload.dict()
    customer = customer_in_view(request.auth, data.pop("customer"))
    data["product"] = _product(data["product"])
    with forbidden_as_403():
        record = services.record_dissatisfaction(customer=customer, actor=request.auth, **data)
    return Status(201, record)


# --- After-sales service ---------------------------------------------------------------------------

class TicketOut(Schema):
    id: int
    kind: str
    status: str
    customer: Ref
    order_line_id: int | None
    description: str
    technician: UserRef | None
    partner_id: int | None
    visit_at: datetime.datetime | None
    visit_address: str
    resolution: str
    completed_at: datetime.datetime | None
    version: int


class TicketIn(Schema):
    customer: Id
    kind: Choice
    description: Text(10_000, min_length=1)
    order_line: Id | None = None
    technician: Id | None = None
    partner: Id | None = None


class VisitIn(Schema):
    version: Version
    visit_at: datetime.datetime
    address: Text(300) = ""


class CompleteIn(Schema):
    version: Version
    resolution: Text(10_000, min_length=1)


class ArticleOut(Schema):
    id: int
    question: str
    answer: str
    keywords: str
    product_id: int | None


def _ticket(user, pk):
    return selectors.service_tickets(user).get(pk=pk)


@router.get("/service-tickets", response=list[TicketOut])
def list_tickets(request, customer: Id | None = None, status: Choice | None = None,
                 limit: Annotated[int, Field(ge=1, le=500)] = 50):
    return list(selectors.service_tickets(request.auth, customer=customer, status=status)[:limit])


@router.post("/service-tickets", response={201: TicketOut})
def open_ticket(request, payload: TicketIn):
    from guanxi.customers.models import Referrer
    from guanxi.sales.models import OrderLine

    data = payload.dict()
    customer = customer_in_view(request.auth, data.pop("customer"))
    line_id = data.pop("order_line")
    line = OrderLine.objects.filter(pk=line_id).select_related("order").first() if line_id else None
    if payload.order_line and line is None:
        raise ValidationError({"order_line": _("Unknown order line.")})
    partner = Referrer.objects.filter(pk=payload.partner).first() if payload.partner else None
    if payload.partner and partner is None:
        raise ValidationError({"partner": _("Unknown partner.")})
    data.pop("partner")
    technician = user_or_422(data.pop("technician"), "technician")
    with forbidden_as_403():
        ticket = services.open_service_ticket(customer=customer, actor=request.auth, order_line=line, technician=technician,
                                              partner=partner, **data)
    return Status(201, ticket)


@router.post("/service-tickets/{ticket_id}/visit", response=TicketOut)
def schedule_visit(request, ticket_id: Id, payload: VisitIn):
    with forbidden_as_403():
        return services.schedule_visit(ticket=_ticket(request.auth, ticket_id), actor=request.auth, expected_version=payload.version,
                                       visit_at=payload.visit_at, address=payload.address)


@router.post("/service-tickets/{ticket_id}/complete", response=TicketOut)
def complete_ticket(request, ticket_id: Id, payload: CompleteIn):
    with forbidden_as_403():
        return services.complete_service_ticket(ticket=_ticket(request.auth, ticket_id), actor=request.auth,
                                                expected_version=payload.version, resolution=payload.resolution)


class WarrantyIn(Schema):
    months: Annotated[int, Field(ge=1, le=240)] | None = None
    starts_on: Date | None = None


class WarrantyOut(Schema):
    id: int
    order_line_id: int
    customer_id: int
    product: Ref
    starts_on: datetime.date
    ends_on: datetime.date
    reminded_at: datetime.datetime | None


@router.post("/order-lines/{line_id}/warranty", response={201: WarrantyOut})
def register_warranty(request, line_id: Id, payload: WarrantyIn):
    """Start (or correct) the warranty of an order line: from delivery, or the given date, for N months."""
    from guanxi.sales.models import OrderLine

    line = OrderLine.objects.select_related("order", "product").get(pk=line_id)
    customer_in_view(request.auth, line.order.customer_id)  # 404 outside the user's view
    with forbidden_as_403():
        warranty = services.register_warranty(order_line=line, actor=request.auth, months=payload.months, starts_on=payload.starts_on)
    return Status(201, warranty)


@router.get("/warranties", response=list[WarrantyOut])
def list_warranties(request, customer: Id | None = None, ending_by: Date | None = None,
                    limit: Annotated[int, Field(ge=1, le=500)] = 100):
    return list(selectors.warranties(request.auth, customer=customer, ending_by=ending_by)[:limit])


@router.get("/knowledge-base", response=list[ArticleOut])
def search_knowledge_base(request, q: Text(100) = ""):
    return list(selectors.search_articles(q))
