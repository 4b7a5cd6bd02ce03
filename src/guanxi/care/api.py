"""API routes for care rules, opt-outs, incident notices, segments and campaigns (thin edges over care.services)."""

import datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from guanxi.care import services
from guanxi.care.models import Campaign, CareRule, Segment
from guanxi.core.schemas import Date, Id, Money, Text
from guanxi.sales.api import customer_in_view, forbidden_as_403
from guanxi.sales.models import Product

router = Router(tags=["care"])
Choice = Text(40)
Days = Annotated[int, Field(ge=0, le=365)]


class CareRuleIn(Schema):
    name: Text(100, min_length=1)
    kind: Choice
    holiday: Choice = ""
    days_before: Days = 0
    days_after: Days = 0
    interval_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    grade: Text(6) = ""
    customer_type: Text(8) = ""
    current_only: bool = True
    create_task: bool = True
    send_email: bool = False
    message: Text(5_000) = ""


class CareRuleOut(Schema):
    id: int
    name: str
    kind: str
    holiday: str
    days_before: int
    days_after: int
    interval_days: int | None
    grade: str
    customer_type: str
    create_task: bool
    send_email: bool
    is_active: bool


class OptOutIn(Schema):
    reason: Text(300) = ""


class IncidentIn(Schema):
    """Buyers of a product, of one of its batches, in a period — any combination (a batch needs its product)."""

    product: Id | None = None
    batch: Text(40) = ""
    bought_from: Date | None = None
    bought_to: Date | None = None
    subject: Text(200, min_length=1)
    message: Text(10_000, min_length=1)


class IncidentOut(Schema):
    id: int
    product_id: int | None
    batch: str
    bought_from: datetime.date | None
    bought_to: datetime.date | None
    subject: str
    recipients: int


class SegmentIn(Schema):
    name: Text(100, min_length=1)
    filters: dict[Text(20), Text(100) | Annotated[int, Field(ge=1, le=2**63 - 1)]]


class SegmentOut(Schema):
    id: int
    name: str
    filters: dict


class CampaignIn(Schema):
    name: Text(100, min_length=1)
    segment: Id
    subject: Text(200, min_length=1)
    message: Text(10_000, min_length=1)
    channel: Choice = "email"
    budget: Money = Decimal("0")
    cost: Money = Decimal("0")
    holdout_percent: Annotated[int, Field(ge=0, le=50)] = 10
    response_days: Annotated[int, Field(ge=1, le=365)] = 30
    link_url: Text(300) = "/contact/"


class CampaignOut(Schema):
    id: int
    name: str
    segment_id: int
    channel: str
    status: str
    budget: Decimal
    cost: Decimal
    holdout_percent: int
    response_days: int
    launched_at: datetime.datetime | None


@router.get("/care-rules", response=list[CareRuleOut])
def list_rules(request):
    return list(CareRule.objects.order_by("name")[:500])


@router.post("/care-rules", response={201: CareRuleOut})
def create_rule(request, payload: CareRuleIn):
    with forbidden_as_403():
        return Status(201, services.create_care_rule(actor=request.auth, **payload.dict()))


@router.post("/customers/{customer_id}/care-opt-out", response={204: None})
def opt_out(request, customer_id: Id, payload: OptOutIn):
    with forbidden_as_403():
        services.opt_out_of_care(customer=customer_in_view(request.auth, customer_id), actor=request.auth, reason=payload.reason)
    return Status(204, None)


@router.delete("/customers/{customer_id}/care-opt-out", response={204: None})
def opt_in(request, customer_id: Id):
    with forbidden_as_403():
        services.opt_back_in(customer=customer_in_view(request.auth, customer_id), actor=request.auth)
    return Status(204, None)


@router.post("/incident-notices", response={201: IncidentOut})
def incident_notice(request, payload: IncidentIn):
    product = None
    if payload.product is not None:
        product = Product.objects.filter(pk=payload.product).first()
        if product is None:
            raise ValidationError({"product": _("Unknown product.")})
    with forbidden_as_403():
        notice = services.send_incident_notice(actor=request.auth, product=product, batch=payload.batch, bought_from=payload.bought_from,
                                               bought_to=payload.bought_to, subject=payload.subject, message=payload.message)
    return Status(201, {"id": notice.pk, "product_id": notice.product_id, "batch": notice.batch, "bought_from": notice.bought_from,
                        "bought_to": notice.bought_to, "subject": notice.subject, "recipients": notice.recipients.count()})


@router.post("/segments", response={201: SegmentOut})
def create_segment(request, payload: SegmentIn):
    with forbidden_as_403():
        return Status(201, services.save_segment(actor=request.auth, name=payload.name, filters=payload.filters))


@router.get("/campaigns", response=list[CampaignOut])
def list_campaigns(request):
    return list(Campaign.objects.all()[:500])


@router.post("/campaigns", response={201: CampaignOut})
def create_campaign(request, payload: CampaignIn):
    data = payload.dict()
    segment = Segment.objects.filter(pk=data.pop("segment")).first()
    if segment is None:
        raise ValidationError({"segment": _("Unknown segment.")})
    with forbidden_as_403():
        return Status(201, services.create_campaign(actor=request.auth, segment=segment, **data))


@router.post("/campaigns/{campaign_id}/launch", response=CampaignOut)
def launch(request, campaign_id: Id):
    with forbidden_as_403():
        return services.launch_campaign(campaign=Campaign.objects.get(pk=campaign_id), actor=request.auth)


@router.get("/campaigns/{campaign_id}/results")
def results(request, campaign_id: Id):
    campaign = Campaign.objects.get(pk=campaign_id)
    data = services.campaign_results(campaign=campaign)
    return {**data, "roi": None if data["roi"] is None else str(data["roi"].quantize(Decimal("0.0001")))}


@router.post("/campaigns/{campaign_id}/replies/{customer_id}", response={204: None})
def record_reply(request, campaign_id: Id, customer_id: Id):
    """The customer answered the campaign (by phone, mail, WeChat…): counted as a response."""
    from guanxi.care.models import CampaignMember

    customer = customer_in_view(request.auth, customer_id)
    member = CampaignMember.objects.select_related("customer").get(campaign_id=campaign_id, customer=customer)
    with forbidden_as_403():
        services.record_reply(member=member, actor=request.auth)
    return Status(204, None)
