"""Browser forms for customers. The profile sections and custom fields generate their fields.

Forms only parse what the browser sends into typed values; every business rule (phone format,
duplicates, profile schema, versions) stays in customers.services, whose ValidationError keys
map back onto these fields so each message appears next to its field.
"""

import datetime
import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import CURRENCY_CHOICES
from guanxi.customers.models import (
    AcquisitionMode,
    Contact,
    CustomFieldDefinition,
    Customer,
    CustomerType,
    DataSource,
    Gender,
    Kind,
    LeadSource,
    LostReason,
    PaymentTerms,
    State,
    UpgradePotential,
)
from guanxi.customers.profile import FIELD_LABELS, sections_for
from guanxi.engagement.models import Channel, ContentType, Direction, SalesPhase, Task

LIST_SEPARATORS = re.compile(r"[,，、;；]")
PROFILE_PREFIX = "p__"
CUSTOM_PREFIX = "cf__"


def _blank(choices):
    return [("", "—"), *choices]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def split_list(text: str) -> list[str]:
    """“a, b，c、d” → ["a", "b", "c", "d"]: Chinese and Latin separators both work."""
    return [part.strip() for part in LIST_SEPARATORS.split(text or "") if part.strip()]


def profile_field_name(section: str, key: str) -> str:
    return f"{PROFILE_PREFIX}{section}__{key}"


def _profile_form_field(kind: str, label) -> forms.Field:
    if kind == "int":
        return forms.IntegerField(label=label, required=False, min_value=0)
    if kind == "decimal":
        return forms.DecimalField(label=label, required=False, max_digits=16, decimal_places=2)
    if kind == "date":
        return forms.DateField(label=label, required=False, widget=DateInput())
    if kind == "list":
        return forms.CharField(label=label, required=False, max_length=2000, help_text=_("Separate items with commas."))
    return forms.CharField(label=label, required=False, max_length=500)


def _custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    common = {"label": definition.label, "required": definition.required and definition.field_type != "boolean"}
    if definition.field_type == "number":
        return forms.DecimalField(max_digits=20, decimal_places=6, **common)
    if definition.field_type == "date":
        return forms.DateField(widget=DateInput(), **common)
    if definition.field_type == "boolean":
        return forms.BooleanField(label=definition.label, required=False)
    if definition.field_type == "choice":
        return forms.ChoiceField(choices=_blank([(c, c) for c in definition.choices]), **common)
    return forms.CharField(max_length=500, **common)


# (fieldset title, column fields) — the person/organisation-only fields are dropped for the other kind.
CORE_FIELDSETS = (
    (_("Identity and contact"), ("name", "phone", "email", "uscc", "gender", "birthday", "industry", "employees", "province", "city", "address")),
    (_("Relationship"), ("state", "source", "data_source", "acquisition_mode", "customer_type", "upgrade_potential", "tags")),
    (_("Credit and terms"), ("payment_terms", "payment_days", "credit_limit", "currency", "credit_rating", "credit_rating_source", "credit_rating_date")),
    (_("Consent and notes"), ("marketing_consent", "notes")),
)
PERSON_ONLY = {"gender", "birthday"}
ORGANISATION_ONLY = {"uscc", "industry", "employees"}


class CustomerForm(forms.Form):
    """Create or edit one person or organisation; `version` rides along for optimistic locking."""

    name = forms.CharField(label=_("Name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=30, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=_blank(Gender.choices), required=False)
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=DateInput())
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    employees = forms.IntegerField(label=_("Employees"), required=False, min_value=0, max_value=10**9)
    province = forms.CharField(label=_("Province"), max_length=50, required=False)
    city = forms.CharField(label=_("City"), max_length=50, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    state = forms.ChoiceField(label=_("Lifecycle state"), choices=State.choices, initial=State.POTENTIAL)
    source = forms.ChoiceField(label=_("Lead source"), choices=_blank(LeadSource.choices), required=False)
    data_source = forms.ChoiceField(label=_("Data source"), choices=_blank(DataSource.choices), required=False)
    acquisition_mode = forms.ChoiceField(label=_("Acquisition mode"), choices=_blank(AcquisitionMode.choices), required=False)
    customer_type = forms.ChoiceField(label=_("Customer type"), choices=_blank(CustomerType.choices), required=False)
    upgrade_potential = forms.ChoiceField(label=_("Upgrade potential"), choices=UpgradePotential.choices, initial=UpgradePotential.NONE)
    tags = forms.CharField(label=_("Tags"), max_length=1000, required=False, help_text=_("Separate tags with commas."))
    payment_terms = forms.ChoiceField(label=_("Payment terms"), choices=PaymentTerms.choices, initial=PaymentTerms.CASH)
    payment_days = forms.IntegerField(label=_("Payment days"), min_value=0, max_value=32767, initial=0)
    credit_limit = forms.DecimalField(label=_("Credit limit"), max_digits=14, decimal_places=2, min_value=0, initial=Decimal("0"))
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES, initial="CNY")
    credit_rating = forms.CharField(label=_("Credit rating"), max_length=16, required=False)
    credit_rating_source = forms.CharField(label=_("Credit rating source"), max_length=100, required=False)
    credit_rating_date = forms.DateField(label=_("Credit rating date"), required=False, widget=DateInput())
    marketing_consent = forms.BooleanField(label=_("Agrees to receive marketing"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, kind: str, creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.creating = creating
        for name in PERSON_ONLY if kind == Kind.ORGANISATION else ORGANISATION_ONLY:
            del self.fields[name]
        if not creating:
            del self.fields["state"]  # a state moves through its own action, with a reason
        self.sections = []
        self.list_fields = set()
        for section, (title, schema) in sections_for(kind).items():
            names = []
            for key, kind_ in schema.items():
                name = profile_field_name(section, key)
                self.fields[name] = _profile_form_field(kind_, FIELD_LABELS.get(key, key))
                if kind_ == "list":
                    self.list_fields.add(name)
                names.append(name)
            self.sections.append((section, title, names))
        self.custom_definitions = [
            d for d in CustomFieldDefinition.objects.order_by("position", "key") if not d.applies_to or d.applies_to == kind
        ]
        for definition in self.custom_definitions:
            self.fields[f"{CUSTOM_PREFIX}{definition.key}"] = _custom_form_field(definition)

    # --- layout -------------------------------------------------------------------------------
    def core_fieldsets(self):
        return [(title, [self[n] for n in names if n in self.fields]) for title, names in CORE_FIELDSETS]

    def profile_fieldsets(self):
        return [(section, title, [self[n] for n in names], any(self[n].errors for n in names)) for section, title, names in self.sections]

    def custom_fields(self):
        return [self[f"{CUSTOM_PREFIX}{d.key}"] for d in self.custom_definitions]

    # --- to and from the services -------------------------------------------------------------
    def service_fields(self) -> dict:
        """Cleaned data shaped as customers.services expects it (profile and custom fields as dicts)."""
        data = self.cleaned_data
        fields = {}
        for name in self.fields:
            if name in ("version", "tags", "state") or name.startswith((PROFILE_PREFIX, CUSTOM_PREFIX)):
                continue
            value = data.get(name)
            if name in ("birthday", "credit_rating_date", "employees") and value in ("", None):
                value = None
            elif value is None:
                value = ""
            fields[name] = value
        profile = {}
        for section, _title, names in self.sections:
            values = {}
            for name in names:
                key = name.rsplit("__", 1)[1]
                value = data.get(name)
                if value in (None, ""):
                    continue
                kind_ = sections_for(self.kind)[section][1][key]
                if kind_ == "list":
                    value = split_list(value)
                elif isinstance(value, (datetime.date, Decimal)):
                    value = value.isoformat() if isinstance(value, datetime.date) else str(value)
                if value not in ([], ""):
                    values[key] = value
            if values:
                profile[section] = values
        fields["profile"] = profile
        custom = {}
        for definition in self.custom_definitions:
            value = data.get(f"{CUSTOM_PREFIX}{definition.key}")
            if value in (None, "") or (definition.field_type == "boolean" and value is False and not definition.required):
                continue
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            custom[definition.key] = value
        fields["custom_fields"] = custom
        return fields

    def tag_names(self) -> list[str]:
        return split_list(self.cleaned_data.get("tags", ""))

    @classmethod
    def initial_for(cls, customer: Customer) -> dict:
        """The form's starting values for an existing customer."""
        initial = {name: getattr(customer, name) for name in cls.base_fields if hasattr(customer, name) and name not in ("tags", "version")}
        initial["version"] = customer.version
        initial["tags"] = ", ".join(t.name for t in customer.tags.all())
        for section, (_title, schema) in sections_for(customer.kind).items():
            stored = (customer.profile or {}).get(section, {})
            for key, kind_ in schema.items():
                value = stored.get(key)
                if value is None:
                    continue
                initial[profile_field_name(section, key)] = ", ".join(value) if kind_ == "list" else value
        for key, value in (customer.custom_fields or {}).items():
            initial[f"{CUSTOM_PREFIX}{key}"] = value
        return initial

    def form_field_for_error(self, key: str) -> str | None:
        """Map a service error key ("phone", "profile.basic.wechat", "custom_fields.x") onto a field name."""
        if key.startswith("profile."):
            parts = key.split(".")
            name = profile_field_name(parts[1], parts[2]) if len(parts) == 3 else None
        elif key.startswith("custom_fields."):
            name = f"{CUSTOM_PREFIX}{key.split('.', 1)[1]}"
        else:
            name = key
        return name if name in self.fields else None

    def add_service_errors(self, error) -> None:
        for key, messages in error.message_dict.items():
            self.add_error(self.form_field_for_error(key), messages)


def display_value(field: forms.Field, value) -> str:
    """A value as a person reads it, for the side-by-side view of an edit conflict."""
    if value in (None, "", [], {}):
        return ""
    if isinstance(field, forms.BooleanField):
        return str(_("Yes")) if value else str(_("No"))
    if isinstance(field, forms.ChoiceField):
        return str(dict(field.choices).get(str(value), value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def conflict_rows(form: CustomerForm, current: Customer) -> list[dict]:
    """Every field where the user's input and the saved version differ: label, yours, theirs."""
    theirs = CustomerForm.initial_for(current)
    rows = []
    for name, field in form.fields.items():
        if name == "version":
            continue
        raw_theirs = theirs.get(name)
        if isinstance(field, forms.DecimalField) and raw_theirs not in (None, ""):
            raw_theirs = Decimal(str(raw_theirs))
        elif isinstance(field, forms.DateField) and isinstance(raw_theirs, str) and raw_theirs:
            raw_theirs = datetime.date.fromisoformat(raw_theirs)
        mine, saved = display_value(field, form.cleaned_data.get(name)), display_value(field, raw_theirs)
        if name == "tags" or name in form.list_fields:
            mine, saved = ", ".join(split_list(mine)), ", ".join(split_list(saved))
        if mine != saved:
            rows.append({"name": name, "label": field.label, "yours": mine, "theirs": saved})
    return rows


class StateChangeForm(forms.Form):
    to = forms.ChoiceField(label=_("New state"), choices=State.choices)
    reason_category = forms.ChoiceField(label=_("Why lost"), required=False, choices=[("", "—"), *LostReason.choices],
                                        help_text=_("Required when a customer is lost."))
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("In your words; required for “Other”."))

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(v, label) for v, label in State.choices if v != current]


class InteractionForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices, initial=Direction.OUTBOUND)
    content_type = forms.ChoiceField(label=_("Content type"), choices=ContentType.choices, initial=ContentType.INFORMATION)
    phase = forms.ChoiceField(label=_("Sales phase"), choices=SalesPhase.choices, initial=SalesPhase.BEFORE)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Details"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))
    occurred_at = forms.DateTimeField(label=_("When"), required=False, widget=DateTimeInput(), help_text=_("Leave empty for now."))


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=DateTimeInput())
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Task.Priority.choices, coerce=int, initial=Task.Priority.NORMAL)
    description = forms.CharField(label=_("Description"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))


class OpportunityForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=None, required=False, empty_label=None)
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, min_value=0, initial=Decimal("0"))
    expected_close = forms.DateField(label=_("Expected close"), required=False, widget=DateInput())
    notes = forms.CharField(label=_("Notes"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        from guanxi.sales.selectors import pipeline_stages

        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = pipeline_stages().filter(is_won=False, is_lost=False)


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Contact.ContactRole.choices, initial=Contact.ContactRole.OTHER)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False, widget=forms.EmailInput())
    wechat = forms.CharField(label=_("WeChat"), max_length=64, required=False)
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=DateInput())
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 2}))


class ReferralForm(forms.Form):
    """Who brought the customer: another (visible) customer, a paid agent or partner, or both."""

    referred_by = forms.ModelChoiceField(label=_("Referred by customer"), queryset=Customer.objects.none(), required=False,
                                         widget=forms.RadioSelect)
    referrer = forms.ModelChoiceField(label=_("Referred by agent or partner"), queryset=None, required=False)

    def __init__(self, *args, candidates, **kwargs):
        from guanxi.customers.models import Referrer

        super().__init__(*args, **kwargs)
        self.fields["referred_by"].queryset = candidates
        self.fields["referrer"].queryset = Referrer.objects.filter(is_active=True).order_by("name")
