"""API routes for customers, contacts, attachments, shares and tags: thin edges over services and selectors."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import ConfigDict

from guanxi.accounts.models import Role, Team, User
from guanxi.core.pagination import capped_count
from guanxi.core.schemas import Date, Id, LongText, Money, PageParams, PositiveInt16, PositiveInt32, Text, Version
from guanxi.core.visibility import is_read_only, visible_customers
from guanxi.customers import selectors, services
from guanxi.customers.models import Customer, LostReason, Referrer, State

router = Router(tags=["customers"])


# --- Schemas -------------------------------------------------------------------------------

class UserRef(Schema):
    id: int
    username: str
    name: str = Field(..., alias="display_name")

    @staticmethod
    def resolve_display_name(obj):
        return str(obj)


class CustomerListItem(Schema):
    id: int
    kind: str
    name: str
    state: str
    owner: UserRef | None
    team_id: int | None
    phone: str
    email: str
    city: str
    source: str
    customer_type: str
    tags: list[str]
    completeness: int
    last_verified_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_tags(obj):
        return [tag.name for tag in obj.tags.all()]


class CustomerOut(CustomerListItem):
    uscc: str
    province: str
    address: str
    gender: str
    birthday: date | None
    industry: str
    employees: int | None
    data_source: str
    acquisition_mode: str
    referred_by_id: int | None
    referrer_id: int | None
    upgrade_potential: str
    payment_terms: str
    payment_days: int
    credit_limit: Decimal
    currency: str
    credit_rating: str
    credit_rating_source: str
    credit_rating_date: date | None
    marketing_consent: bool
    opted_out_at: datetime | None
    profile: dict
    custom_fields: dict
    notes: str


class CustomerPage(Schema):
    items: list[CustomerListItem]
    count: int
    count_capped: bool


class CustomerFields(Schema):
    """Fields a user edits; strings are bounded by their column and free of NUL."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["person", "organisation"] | None = None
    name: Text(200, min_length=1) | None = None
    phone: Text(32) | None = None
    email: Text(254) | None = None
    uscc: Text(30) | None = None
    province: Text(50) | None = None
    city: Text(50) | None = None
    address: Text(300) | None = None
    gender: Text(1) | None = None
    birthday: Date | None = None
    industry: Text(100) | None = None
    employees: PositiveInt32 | None = None
    source: Text(32) | None = None
    data_source: Text(32) | None = None
    acquisition_mode: Text(16) | None = None
    referred_by: Id | None = None
    referrer: Id | None = None
    customer_type: Text(8) | None = None
    upgrade_potential: Text(8) | None = None
    payment_terms: Text(16) | None = None
    payment_days: PositiveInt16 | None = None
    credit_limit: Money | None = Field(None, ge=0)
    currency: Text(3) | None = None
    credit_rating: Text(16) | None = None
    credit_rating_source: Text(100) | None = None
    credit_rating_date: Date | None = None
    marketing_consent: bool | None = None
    profile: dict[Text(50), Any] | None = None
    custom_fields: dict[Text(50), Any] | None = None
    notes: LongText | None = None
    team: Id | None = None
    tags: list[Text(50)] | None = Field(None, max_length=50)


class CustomerCreate(CustomerFields):
    name: Text(200, min_length=1)
    state: Literal["non", "potential", "target", "current", "lost"] = State.POTENTIAL
    owner: Id | None = None
    reason: Text(500) = ""


class CustomerPatch(CustomerFields):
    version: Version


class CustomerFilters(PageParams):
    state: Text(16) | None = None
    owner: Id | None = None
    tag: Text(50) | None = None
    source: Text(32) | None = None
    search: Text(100) | None = None
    ordering: Text(20) | None = None


class StateChangeIn(Schema):
    to: Literal["non", "potential", "target", "current", "lost"]
    reason: Text(500) = ""
    # Required when `to` is "lost" (the service answers 422 naming the field): why the customer left.
    reason_category: Literal[("", *LostReason.values)] = ""


class StateChangeOut(Schema):
    id: int
    from_state: str
    to_state: str
    reason: str
    reason_category: str
    actor: UserRef | None
    changed_at: datetime


class StateHistoryPage(Schema):
    items: list[StateChangeOut]
    count: int
    count_capped: bool


class ContactFields(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Text(100, min_length=1) | None = None
    title: Text(100) | None = None
    role: Text(20) | None = None
    phone: Text(32) | None = None
    email: Text(254) | None = None
    wechat: Text(64) | None = None
    birthday: Date | None = None
    is_primary: bool | None = None
    notes: LongText | None = None


class ContactCreate(ContactFields):
    name: Text(100, min_length=1)


class ContactPatch(ContactFields):
    version: Version


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    title: str
    role: str
    phone: str
    email: str
    wechat: str
    birthday: date | None
    is_primary: bool
    notes: str
    version: int
    created_at: datetime
    updated_at: datetime


class ContactPage(Schema):
    items: list[ContactOut]
    count: int
    count_capped: bool


class AttachmentOut(Schema):
    id: int
    customer_id: int
    opportunity_id: int | None
    original_name: str
    content_type: str
    size: int
    uploaded_by: UserRef | None
    created_at: datetime
    download_url: str

    @staticmethod
    def resolve_download_url(obj):
        return f"/api/v1/attachments/{obj.pk}/download"


class AttachmentPage(Schema):
    items: list[AttachmentOut]
    count: int
    count_capped: bool


class ShareIn(Schema):
    user_id: Id


class ShareOut(Schema):
    customer_id: int
    user_id: int


class TagOut(Schema):
    id: int
    name: str
    customer_count: int


class TagPage(Schema):
    items: list[TagOut]
    count: int
    count_capped: bool


# --- Helpers -------------------------------------------------------------------------------

def _page(queryset, limit: int, offset: int) -> dict:
    count, capped = capped_count(queryset)
    return {"items": list(queryset[offset: offset + limit]), "count": count, "count_capped": capped}


def _require_writer(user: User) -> None:
    """Read-only roles see customers (so a 403 leaks nothing) but may not change them."""
    if is_read_only(user):
        raise HttpError(403, _("Your role can read customers but not change them."))


def _editable_customer(user: User, customer_id: int) -> Customer:
    customer = selectors.customer_detail(user, customer_id)  # 404 first: invisible stays invisible
    _require_writer(user)
    return customer


def _customer_values(user: User, data: dict) -> dict:
    """Turn ids into objects (a customer one cannot see is as unknown as one that does not exist)."""
    if "referred_by" in data and data["referred_by"] is not None:
        data["referred_by"] = visible_customers(user).filter(pk=data["referred_by"]).first()
        if data["referred_by"] is None:
            raise ValidationError({"referred_by": _("Unknown customer.")})
    if "referrer" in data and data["referrer"] is not None:
        data["referrer"] = Referrer.objects.filter(pk=data["referrer"]).first()
        if data["referrer"] is None:
            raise ValidationError({"referrer": _("Unknown referrer.")})
    if "team" in data and data["team"] is not None:
        data["team"] = Team.objects.filter(pk=data["team"]).first()
        if data["team"] is None:
            raise ValidationError({"team": _("Unknown team.")})
    for key in ("profile", "custom_fields"):
        if key in data and data[key] is None:
            data[key] = {}
    # Text columns are "" when empty, never NULL.
    nullable = {"birthday", "employees", "credit_rating_date", "referred_by", "referrer", "team", "tags"}
    return {k: ("" if v is None and k not in nullable else v) for k, v in data.items()}


def _owner_for_create(actor: User, owner_id: int | None) -> User:
    if owner_id is None or owner_id == actor.pk:
        return actor
    if not (actor.is_admin_role or actor.role == Role.MANAGER):
        raise ValidationError({"owner": _("Only managers and administrators create customers for others.")})
    owner = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise ValidationError({"owner": _("Unknown or inactive user.")})
    return owner


# --- Customers -----------------------------------------------------------------------------

@router.get("/customers", response=CustomerPage)
def list_customers(request, filters: Query[CustomerFilters]):
    queryset = selectors.customer_list(
        request.user, state=filters.state, owner=filters.owner, tag=filters.tag, source=filters.source,
        search=filters.search, ordering=filters.ordering,
    )
    return _page(queryset, filters.limit, filters.offset)


@router.post("/customers", response={201: CustomerOut})
def create_customer(request, payload: CustomerCreate):
    _require_writer(request.user)
    data = payload.dict(exclude_unset=True)
    owner = _owner_for_create(request.user, data.pop("owner", None))
    data = _customer_values(request.user, data)
    customer = services.create_customer(actor=request.user, owner=owner, **data)
    return Status(201, selectors.customer_detail(request.user, customer.pk))


@router.get("/customers/{customer_id}", response=CustomerOut)
def get_customer(request, customer_id: Id):
    return selectors.customer_detail(request.user, customer_id)


@router.patch("/customers/{customer_id}", response=CustomerOut)
def update_customer(request, customer_id: Id, payload: CustomerPatch):
    customer = _editable_customer(request.user, customer_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    data = _customer_values(request.user, data)
    services.update_customer(customer=customer, actor=request.user, expected_version=version, **data)
    return selectors.customer_detail(request.user, customer_id)


@router.post("/customers/{customer_id}/state", response=CustomerOut)
def change_state(request, customer_id: Id, payload: StateChangeIn):
    customer = _editable_customer(request.user, customer_id)
    services.change_state(customer=customer, to=payload.to, reason=payload.reason, reason_category=payload.reason_category,
                          actor=request.user)
    return selectors.customer_detail(request.user, customer_id)


@router.get("/customers/{customer_id}/history", response=StateHistoryPage)
def state_history(request, customer_id: Id, page: Query[PageParams]):
    return _page(selectors.state_history(request.user, customer_id), page.limit, page.offset)


@router.post("/customers/{customer_id}/share", response={201: ShareOut})
def share_customer(request, customer_id: Id, payload: ShareIn):
    customer = _editable_customer(request.user, customer_id)
    user = User.objects.filter(pk=payload.user_id, is_active=True).first()
    if user is None:
        raise ValidationError({"user_id": _("Unknown or inactive user.")})
    share = services.share_customer(customer=customer, user=user, actor=request.user)
    return Status(201, share)


@router.delete("/customers/{customer_id}/share", response={204: None})
def unshare_customer(request, customer_id: Id, user_id: Id):
    customer = _editable_customer(request.user, customer_id)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationError({"user_id": _("Unknown user.")})
    services.unshare_customer(customer=customer, user=user, actor=request.user)
    return Status(204, None)


# --- Contacts ------------------------------------------------------------------------------

@router.get("/customers/{customer_id}/contacts", response=ContactPage)
def list_contacts(request, customer_id: Id, page: Query[PageParams]):
    return _page(selectors.customer_contacts(request.user, customer_id), page.limit, page.offset)


@router.post("/customers/{customer_id}/contacts", response={201: ContactOut})
def create_contact(request, customer_id: Id, payload: ContactCreate):
    customer = _editable_customer(request.user, customer_id)
    data = {k: ("" if v is None and k not in ("birthday", "is_primary") else v) for k, v in payload.dict(exclude_unset=True).items()}
    return Status(201, services.create_contact(customer=customer, actor=request.user, **data))


@router.get("/contacts/{contact_id}", response=ContactOut)
def get_contact(request, contact_id: Id):
    return selectors.contact_detail(request.user, contact_id)


@router.patch("/contacts/{contact_id}", response=ContactOut)
def update_contact(request, contact_id: Id, payload: ContactPatch):
    contact = selectors.contact_detail(request.user, contact_id)
    _require_writer(request.user)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    data = {k: ("" if v is None and k not in ("birthday",) else v) for k, v in data.items()}
    if data.get("is_primary") == "":
        data["is_primary"] = False
    return services.update_contact(contact=contact, actor=request.user, expected_version=version, **data)


@router.delete("/contacts/{contact_id}", response={204: None})
def delete_contact(request, contact_id: Id):
    contact = selectors.contact_detail(request.user, contact_id)
    _require_writer(request.user)
    services.delete_contact(contact=contact, actor=request.user)
    return Status(204, None)


# --- Attachments ---------------------------------------------------------------------------

@router.get("/customers/{customer_id}/attachments", response=AttachmentPage)
def list_attachments(request, customer_id: Id, page: Query[PageParams]):
    return _page(selectors.customer_attachments(request.user, customer_id), page.limit, page.offset)


@router.post("/customers/{customer_id}/attachments", response={201: AttachmentOut})
def upload_attachment(request, customer_id: Id, file: File[UploadedFile], opportunity_id: Form[Id | None] = None):
    customer = _editable_customer(request.user, customer_id)
    opportunity = None
    if opportunity_id is not None:
        opportunity = customer.opportunities.filter(pk=opportunity_id).first()
        if opportunity is None:
            raise ValidationError({"opportunity_id": _("Unknown opportunity for this customer.")})
    return Status(201, services.upload_attachment(customer=customer, file=file, actor=request.user, opportunity=opportunity))


@router.get("/attachments/{attachment_id}/download")
def download_attachment(request, attachment_id: Id):
    """Served only after the visibility check, as a download that no browser will render or run."""
    attachment = selectors.attachment_detail(request.user, attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise HttpError(404, _("The file is missing from storage.")) from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@router.delete("/attachments/{attachment_id}", response={204: None})
def delete_attachment(request, attachment_id: Id):
    attachment = selectors.attachment_detail(request.user, attachment_id)
    _require_writer(request.user)
    services.delete_attachment(attachment=attachment, actor=request.user)
    return Status(204, None)


# --- Tags ----------------------------------------------------------------------------------

@router.get("/tags", response=TagPage)
def list_tags(request, page: Query[PageParams]):
    return _page(selectors.tags_in_use(request.user), page.limit, page.offset)
