"""Every write to customers goes through these functions (DESIGN.md house style).

Each validates, writes inside `transaction.atomic()`, records who did it on the customer's
timeline and keeps the search entry in step.
"""

import datetime
import mimetypes
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

import phonenumbers
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import uscc as uscc_number
from stdnum.exceptions import ValidationError as StdnumError

from guanxi.accounts.models import Team, User
from guanxi.core.locking import save_versioned
from guanxi.customers.models import (
    Attachment,
    Contact,
    CustomFieldDefinition,
    Customer,
    CustomerEvent,
    CustomerSearch,
    CustomerShare,
    ImportantDate,
    Kind,
    LostReason,
    Referrer,
    State,
    StateChange,
    Tag,
)
from guanxi.customers.profile import completeness, validate_profile
from guanxi.customers.search import build_search_text

# Fields a user edits directly; everything else has its own service.
EDITABLE_FIELDS = (
    "kind", "name", "phone", "email", "uscc", "province", "city", "address", "gender", "birthday",
    "industry", "employees", "source", "data_source", "acquisition_mode", "referred_by", "referrer",
    "customer_type", "upgrade_potential", "payment_terms", "payment_days", "credit_limit", "currency",
    "credit_rating", "credit_rating_source", "credit_rating_date", "marketing_consent", "profile",
    "custom_fields", "notes", "team",
)
DEFAULT_REGION = "CN"
CONTACT_FIELDS = ("name", "title", "role", "phone", "email", "wechat", "birthday", "is_primary", "notes")
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# Documents and images people attach to a customer; anything a browser could run is refused.
ATTACHMENT_EXTENSIONS = {
    ".pdf", ".txt", ".csv", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".odp",
    ".rtf", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".zip",
}
REFERRAL_MAX_DEPTH = 10


class DuplicateCustomer(ValidationError):
    """Another customer already has this phone, e-mail or credit code."""

    def __init__(self, field: str, duplicate: Customer):
        self.field = field
        self.duplicate = duplicate
        labels = {"phone": _("phone"), "email": _("e-mail"), "uscc": _("unified social credit code")}
        super().__init__(
            {field: _("A customer with this %(field)s already exists (#%(id)s).") % {"field": labels[field], "id": duplicate.pk}},
            code="duplicate",
        )
        self.code = "duplicate"  # a dict-shaped ValidationError drops `code`; the API maps it to 409


# --- Normalisation -------------------------------------------------------------------------

def normalise_phone(raw: str) -> str:
    """E.164 (+8613812345678); Chinese numbers may be typed without the country code."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError({"phone": _("“%(value)s” is not a phone number.") % {"value": raw[:40]}}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError({"phone": _("“%(value)s” is not a valid phone number.") % {"value": raw[:40]}})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_uscc(raw: str) -> str:
    raw = (raw or "").strip().upper()
    if not raw:
        return ""
    try:
        return uscc_number.validate(raw)
    except StdnumError:
        raise ValidationError({"uscc": _("“%(value)s” is not a valid unified social credit code.") % {"value": raw[:30]}}) from None


def find_duplicate(*, phone: str = "", email: str = "", uscc: str = "", exclude_pk: int | None = None) -> tuple[str, Customer] | None:
    """The first field that another customer already uses, with that customer."""
    for field, value in (("phone", phone), ("email", email), ("uscc", uscc)):
        if value:
            match = Customer.objects.filter(**{field: value}).exclude(pk=exclude_pk).order_by("pk").first()
            if match:
                return field, match
    return None


def clean_custom_fields(kind: str, values) -> dict:
    if values in (None, ""):
        values = {}
    if not isinstance(values, dict):
        raise ValidationError({"custom_fields": _("Must be an object.")})
    definitions = {d.key: d for d in CustomFieldDefinition.objects.all()}
    cleaned = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None or (definition.applies_to and definition.applies_to != kind):
            raise ValidationError({f"custom_fields.{key}": _("Unknown custom field.")})
        if value in (None, ""):
            continue
        where = f"custom_fields.{key}"
        kind_ = definition.field_type
        if kind_ == "number":
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                raise ValidationError({where: _("Must be a number.")}) from None
            if not number.is_finite():
                raise ValidationError({where: _("Must be a number.")})
            cleaned[key] = str(number)
        elif kind_ == "date":
            try:
                cleaned[key] = datetime.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise ValidationError({where: _("Must be a date (YYYY-MM-DD).")}) from None
        elif kind_ == "boolean":
            if not isinstance(value, bool):
                raise ValidationError({where: _("Must be true or false.")})
            cleaned[key] = value
        elif kind_ == "choice":
            if value not in definition.choices:
                raise ValidationError({where: _("Not one of the allowed choices.")})
            cleaned[key] = value
        else:
            if not isinstance(value, str) or len(value) > 500 or "\x00" in value:
                raise ValidationError({where: _("Must be text of at most 500 characters.")})
            cleaned[key] = value
    missing = [d.key for d in definitions.values() if d.required and (not d.applies_to or d.applies_to == kind) and d.key not in cleaned]
    if missing:
        raise ValidationError({f"custom_fields.{missing[0]}": _("This field is required.")})
    return cleaned


def _apply(customer: Customer, fields: dict) -> list[str]:
    """Set allowed fields on `customer`, normalised and validated; return the names changed."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be set here.")})
    if "phone" in fields:
        fields["phone"] = normalise_phone(fields["phone"])
    if "email" in fields:
        fields["email"] = (fields["email"] or "").strip().lower()
    if "uscc" in fields:
        fields["uscc"] = normalise_uscc(fields["uscc"])
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
    for name, value in fields.items():
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError({name: _("Must not contain NUL characters.")})
    changed = []
    for name, value in fields.items():
        if name not in ("profile", "custom_fields") and getattr(customer, name) != value:
            changed.append(name)
        setattr(customer, name, value)
    customer.profile = validate_profile(customer.kind, customer.profile)
    customer.custom_fields = clean_custom_fields(customer.kind, customer.custom_fields)
    if "profile" in fields or "custom_fields" in fields:
        changed += [f for f in ("profile", "custom_fields") if f in fields]
    if customer.referred_by_id and customer.pk and _refers_back(customer.referred_by_id, customer.pk):
        raise ValidationError({"referred_by": _("A customer cannot be referred by someone they referred.")})
    customer.completeness = completeness(customer)
    customer.full_clean(exclude=["owner", "team", "referred_by", "referrer"], validate_unique=False, validate_constraints=False)
    return changed


def _refers_back(referred_by_id: int, customer_pk: int) -> bool:
    """True if following referred_by up from `referred_by_id` reaches `customer_pk` (a cycle)."""
    current, seen = referred_by_id, set()
    while current and current not in seen and len(seen) <= REFERRAL_MAX_DEPTH * 10:
        if current == customer_pk:
            return True
        seen.add(current)
        current = Customer.objects.filter(pk=current).values_list("referred_by_id", flat=True).first()
    return False


def refresh_search_entry(customer: Customer) -> None:
    """Keep the narrow search row in step with the customer (and its contacts' phones/e-mails)."""
    phones = [customer.phone, *customer.contacts.values_list("phone", flat=True)] if customer.pk else [customer.phone]
    emails = [customer.email, *customer.contacts.values_list("email", flat=True)] if customer.pk else [customer.email]
    contact_names = list(customer.contacts.values_list("name", flat=True)) if customer.pk else []
    text = build_search_text(name=customer.name, phones=phones, emails=emails, extra=[customer.uscc, *contact_names])
    CustomerSearch.objects.update_or_create(
        customer=customer, defaults={"owner_id": customer.owner_id, "team_id": customer.team_id, "text": text}
    )


def _record(customer: Customer, verb: str, summary: str, actor: User | None) -> None:
    CustomerEvent.objects.create(customer=customer, verb=verb, summary=summary[:500], actor=actor)


# --- Services ------------------------------------------------------------------------------

def create_customer(*, actor: User, name: str, kind: str = Kind.PERSON, state: str = State.POTENTIAL,
                    owner: User | None = None, tags: list[str] = (), reason: str = "", **fields) -> Customer:
    """Create a customer owned by `owner` (default: the actor), refusing duplicates."""
    if state not in State.values:
        raise ValidationError({"state": _("Unknown state.")})
    owner = owner or actor
    customer = Customer(kind=kind, name=name, state=state, owner=owner, team=fields.pop("team", None) or owner.team)
    _apply(customer, {"kind": kind, "name": name, **fields})
    with transaction.atomic():
        duplicate = find_duplicate(phone=customer.phone, email=customer.email, uscc=customer.uscc)
        if duplicate:
            raise DuplicateCustomer(*duplicate)
        customer.save()
        if tags:
            customer.tags.set(_tags(tags))
        StateChange.objects.create(customer=customer, from_state="", to_state=state, reason=reason[:500], actor=actor)
        refresh_search_entry(customer)
    return customer


def update_customer(*, customer: Customer, actor: User, expected_version: int, tags: list[str] | None = None, **fields) -> Customer:
    """Apply `fields` if nobody saved since `expected_version`, else raise StaleVersion."""
    changed = _apply(customer, fields)
    with transaction.atomic():
        duplicate = find_duplicate(phone=customer.phone, email=customer.email, uscc=customer.uscc, exclude_pk=customer.pk)
        if duplicate:
            raise DuplicateCustomer(*duplicate)
        save_versioned(customer, expected_version=expected_version, fields=[f for f in EDITABLE_FIELDS if f not in ("referred_by", "referrer", "team")] + ["referred_by_id", "referrer_id", "team_id", "completeness"])
        if tags is not None:
            customer.tags.set(_tags(tags))
            changed.append("tags")
        if changed:
            _record(customer, "updated", ", ".join(sorted(set(changed))), actor)
        refresh_search_entry(customer)
    return customer


def change_state(*, customer: Customer, to: str, reason: str, actor: User, reason_category: str = "") -> Customer:
    """Move a customer to another lifecycle state, with the reason, on the record.

    A move to lost needs a reason category (LostReason; "other" needs the free text too) and opens
    the episode's win-back record; a move from lost back to current wins that episode back
    (guanxi.insights.services.record_state_change, in the same transaction)."""
    from guanxi.insights.services import record_state_change

    if to not in State.values:
        raise ValidationError({"to": _("Unknown state.")})
    reason = (reason or "").strip()
    reason_category = (reason_category or "").strip()
    if to == State.LOST:
        if not reason_category:
            raise ValidationError({"reason_category": _("Choose why the customer was lost.")})
        if reason_category not in LostReason.values:
            raise ValidationError({"reason_category": _("Unknown reason category.")})
        if reason_category == LostReason.OTHER and not reason:
            raise ValidationError({"reason": _("Say why the customer was lost.")})
    elif reason_category:
        raise ValidationError({"reason_category": _("A reason category is only given when a customer is lost.")})
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.state == to:
            raise ValidationError({"to": _("The customer is already in this state.")})
        change = StateChange.objects.create(customer=locked, from_state=locked.state, to_state=to, reason=reason[:500],
                                            reason_category=reason_category, actor=actor)
        Customer.objects.filter(pk=locked.pk).update(state=to, version=locked.version + 1, updated_at=timezone.now())
        record_state_change(change=change, owner_id=locked.owner_id, actor=actor)
    customer.refresh_from_db()
    return customer


def reassign_customer(*, customer: Customer, owner: User, actor: User, team: Team | None = None) -> Customer:
    """Give a customer a new owner (and their team unless another is named)."""
    if not owner.is_active:
        raise ValidationError({"owner": _("The new owner is not an active user.")})
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(
            owner=owner, team=team or owner.team, version=F("version") + 1, updated_at=timezone.now()
        )
        customer.refresh_from_db()
        _record(customer, "reassigned", _("Owner: %(owner)s") % {"owner": owner}, actor)
        CustomerSearch.objects.filter(customer=customer).update(owner_id=customer.owner_id, team_id=customer.team_id)
    return customer


def share_customer(*, customer: Customer, user: User, actor: User) -> CustomerShare:
    """Let `user` see (and work on) a customer they do not own."""
    if not user.is_active:
        raise ValidationError({"user": _("This user is not active.")})
    with transaction.atomic():
        share, created = CustomerShare.objects.get_or_create(customer=customer, user=user)
        if created:
            _record(customer, "shared", _("Shared with %(user)s") % {"user": user}, actor)
    return share


def unshare_customer(*, customer: Customer, user: User, actor: User) -> None:
    """Withdraw a share; the owner and managers keep seeing the customer."""
    with transaction.atomic():
        if CustomerShare.objects.filter(customer=customer, user=user).delete()[0]:
            _record(customer, "unshared", _("No longer shared with %(user)s") % {"user": user}, actor)


def set_marketing_consent(*, customer: Customer, consent: bool, actor: User) -> Customer:
    """Consent given, or withdrawn (opt-out is remembered with its time and honoured everywhere)."""
    with transaction.atomic():
        customer.marketing_consent = consent
        customer.opted_out_at = None if consent else timezone.now()
        customer.save(update_fields=["marketing_consent", "opted_out_at", "updated_at"])
        _record(customer, "consent", _("Marketing consent given") if consent else _("Opted out of marketing"), actor)
    return customer


def mark_verified(*, customer: Customer, actor: User) -> Customer:
    """Someone checked the profile against the customer: it is no longer stale."""
    with transaction.atomic():
        customer.last_verified_at = timezone.now()
        Customer.objects.filter(pk=customer.pk).update(last_verified_at=customer.last_verified_at, updated_at=timezone.now())
        _record(customer, "verified", _("Profile verified"), actor)
    return customer


def _tags(names) -> list[Tag]:
    names = sorted({n.strip()[:50] for n in names if n and n.strip()})
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    for name in names:
        if name not in existing:
            existing[name], _created = Tag.objects.get_or_create(name=name)
    return [existing[n] for n in names]


# --- Contacts ------------------------------------------------------------------------------

def _apply_contact(contact: Contact, fields: dict) -> list[str]:
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be set here.")})
    for name, value in fields.items():
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError({name: _("Must not contain NUL characters.")})
    if "phone" in fields:
        fields["phone"] = normalise_phone(fields["phone"])
    if "email" in fields:
        fields["email"] = (fields["email"] or "").strip().lower()
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
    changed = [name for name, value in fields.items() if getattr(contact, name) != value]
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.full_clean(exclude=["customer"], validate_unique=False, validate_constraints=False)
    return changed


def _only_primary(contact: Contact) -> None:
    if contact.is_primary:
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(pk=contact.pk).update(is_primary=False)


def create_contact(*, customer: Customer, actor: User, **fields) -> Contact:
    """Add a person at the customer; their phone, e-mail and name then find the customer in search."""
    contact = Contact(customer=customer)
    _apply_contact(contact, fields)
    with transaction.atomic():
        contact.save()
        _only_primary(contact)
        _record(customer, "contact_added", _("Contact added: %(name)s") % {"name": contact.name}, actor)
        refresh_search_entry(customer)
    return contact


def update_contact(*, contact: Contact, actor: User, expected_version: int, **fields) -> Contact:
    """Change a contact if nobody saved it since `expected_version`, else raise StaleVersion."""
    changed = _apply_contact(contact, fields)
    with transaction.atomic():
        save_versioned(contact, expected_version=expected_version, fields=list(CONTACT_FIELDS))
        _only_primary(contact)
        if changed:
            _record(contact.customer, "contact_updated", _("Contact %(name)s: %(fields)s") % {"name": contact.name, "fields": ", ".join(sorted(changed))}, actor)
        refresh_search_entry(contact.customer)
    return contact


def delete_contact(*, contact: Contact, actor: User) -> None:
    customer = contact.customer
    with transaction.atomic():
        contact.delete()
        _record(customer, "contact_removed", _("Contact removed: %(name)s") % {"name": contact.name}, actor)
        refresh_search_entry(customer)


# --- Important dates -----------------------------------------------------------------------

def add_important_date(*, customer: Customer, actor: User, label: str, date: datetime.date, recurring: bool = True) -> ImportantDate:
    """Remember a date worth a greeting (anniversary, founding day)."""
    label = (label or "").strip()
    if not label or "\x00" in label:
        raise ValidationError({"label": _("Give the date a label.")})
    important = ImportantDate(customer=customer, label=label, date=date, recurring=recurring)
    important.full_clean(exclude=["customer"])
    with transaction.atomic():
        important.save()
        _record(customer, "date_added", _("Important date: %(label)s") % {"label": label}, actor)
    return important


def remove_important_date(*, important_date: ImportantDate, actor: User) -> None:
    with transaction.atomic():
        important_date.delete()
        _record(important_date.customer, "date_removed", _("Important date removed: %(label)s") % {"label": important_date.label}, actor)


# --- Custom fields (administrators only) ---------------------------------------------------

def _require_admin(actor: User) -> None:
    if not actor.is_active or not actor.is_admin_role:
        raise PermissionDenied(_("Only administrators define custom fields."))


def define_custom_field(*, actor: User, key: str, label: str, field_type: str = CustomFieldDefinition.FieldType.TEXT,
                        choices: list[str] = (), applies_to: str = "", required: bool = False, position: int = 0) -> CustomFieldDefinition:
    """Add a field every customer (of a kind) can carry, kept in Customer.custom_fields[key]."""
    _require_admin(actor)
    choices = [str(c).strip() for c in choices or () if str(c).strip()]
    if field_type == CustomFieldDefinition.FieldType.CHOICE and not choices:
        raise ValidationError({"choices": _("A choice field needs at least one choice.")})
    definition = CustomFieldDefinition(
        key=key, label=label, field_type=field_type, choices=choices, applies_to=applies_to, required=required, position=position
    )
    definition.full_clean()
    definition.save()
    return definition


def update_custom_field(*, definition: CustomFieldDefinition, actor: User, **fields) -> CustomFieldDefinition:
    """Relabel, reorder or change the choices of a field; its key and type stay (stored values depend on them)."""
    _require_admin(actor)
    allowed = {"label", "choices", "applies_to", "required", "position"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed.")})
    for name, value in fields.items():
        setattr(definition, name, value)
    definition.full_clean()
    definition.save()
    return definition


def delete_custom_field(*, definition: CustomFieldDefinition, actor: User) -> None:
    """Remove the definition; values already stored stay in the JSON until the customer is next edited."""
    _require_admin(actor)
    definition.delete()


# --- Attachments ---------------------------------------------------------------------------

def attachment_content_type(filename: str) -> str:
    """The content type from an allowlisted extension (files are never sniffed or served inline)."""
    extension = PurePath(filename).suffix.lower()
    if extension not in ATTACHMENT_EXTENSIONS:
        raise ValidationError({"file": _("Files of type “%(ext)s” cannot be attached.") % {"ext": extension or "?"}})
    return mimetypes.guess_type(f"x{extension}", strict=False)[0] or "application/octet-stream"


def upload_attachment(*, customer: Customer, file: UploadedFile, actor: User, opportunity=None) -> Attachment:
    """Store a file on a customer under UPLOADS_ROOT (never a public URL)."""
    original_name = PurePath((file.name or "").replace("\\", "/")).name.strip()
    if not original_name or "\x00" in original_name:
        raise ValidationError({"file": _("The file has no name.")})
    if file.size is None or file.size > ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": _("Files may be at most %(mb)d MB.") % {"mb": ATTACHMENT_MAX_BYTES // (1024 * 1024)}})
    if file.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    content_type = attachment_content_type(original_name)
    if opportunity is not None and opportunity.customer_id != customer.pk:
        raise ValidationError({"opportunity": _("The opportunity belongs to another customer.")})
    attachment = Attachment(
        customer=customer, opportunity=opportunity, original_name=original_name[:255], content_type=content_type,
        size=file.size, uploaded_by=actor,
    )
    with transaction.atomic():
        # The stored name is random: user-chosen names never reach the file system.
        attachment.file.save(f"{customer.pk}{PurePath(original_name).suffix.lower()}", file, save=False)
        stored = attachment.file.name
        try:
            attachment.save()
            _record(customer, "attachment_added", _("File attached: %(name)s") % {"name": attachment.original_name}, actor)
        except Exception:
            attachment.file.storage.delete(stored)
            raise
    return attachment


def delete_attachment(*, attachment: Attachment, actor: User) -> None:
    """Remove the record now and the file once the transaction has committed."""
    storage, name = attachment.file.storage, attachment.file.name
    with transaction.atomic():
        attachment.delete()
        _record(attachment.customer, "attachment_removed", _("File removed: %(name)s") % {"name": attachment.original_name}, actor)
        transaction.on_commit(lambda: storage.delete(name))


# --- Referrals -----------------------------------------------------------------------------

def create_referrer(*, actor: User, name: str, kind: str = Referrer.Kind.AGENT, phone: str = "", email: str = "",
                    commission_per_lead: Decimal = Decimal("0"), currency: str = "CNY") -> Referrer:
    """Register a paid finder (bird-dog agent or partner)."""
    try:
        commission = Decimal(str(commission_per_lead))
    except InvalidOperation:
        raise ValidationError({"commission_per_lead": _("Must be a number.")}) from None
    if not commission.is_finite() or commission < 0:
        raise ValidationError({"commission_per_lead": _("Must be an amount of zero or more.")})
    referrer = Referrer(
        name=(name or "").strip(), kind=kind, phone=normalise_phone(phone), email=(email or "").strip().lower(),
        commission_per_lead=commission, currency=currency,
    )
    referrer.full_clean()
    referrer.save()
    return referrer


def set_referral(*, customer: Customer, actor: User, referred_by: Customer | None = None, referrer: Referrer | None = None) -> Customer:
    """Record who brought this customer: another customer, a paid referrer, or both."""
    if referred_by is not None and (referred_by.pk == customer.pk or _refers_back(referred_by.pk, customer.pk)):
        raise ValidationError({"referred_by": _("A customer cannot be referred by someone they referred.")})
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(
            referred_by=referred_by, referrer=referrer, version=F("version") + 1, updated_at=timezone.now()
        )
        customer.refresh_from_db()
        who = ", ".join(str(x) for x in (referred_by, referrer) if x is not None) or "—"
        _record(customer, "referral", _("Referred by: %(who)s") % {"who": who}, actor)
    return customer

