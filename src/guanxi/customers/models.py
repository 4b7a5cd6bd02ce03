"""Customers (person or organisation), their contacts, states, sources, referrals and files.

Profile sections from the seed (DOMAIN.md §1) that are queried are columns; the rest live
in `profile`, a JSON object validated by `customers.profile.validate_profile`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import CURRENCY_CHOICES, TimeStamped, Versioned, money_field


class Kind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")


class State(models.TextChoices):
    """客户的状态 — lifecycle state."""

    NON = "non", _("Non-customer")
    POTENTIAL = "potential", _("Potential")
    TARGET = "target", _("Target")
    CURRENT = "current", _("Current")
    LOST = "lost", _("Lost")


class LostReason(models.TextChoices):
    """Why a customer was lost (流失原因): the category asked for on every move to "lost".

    The seeds name the causes without a list (DOMAIN.md §8, §10), so Guanxi takes the categories
    from the churn literature and keeps them few enough to choose from in a dialog:
    Keaveney (1995), "Customer switching behavior in service industries", Journal of Marketing
    59(2) — pricing, core-service failure, service-encounter failure, competition, involuntary
    switching (the customer moved or the need disappeared) — and the Chinese CRM textbooks'
    客户流失原因 (企业自身原因: 产品质量、服务、价格; 客户自身原因: 需求变化、搬迁、倒闭; 竞争对手;
    信用与付款). Payment/credit stands apart because the firm may end the relationship itself
    (bad debt, credit freeze). The free-text reason stays beside the category.
    """

    PRICE = "price", _("Price")
    PRODUCT = "product", _("Product quality")
    SERVICE = "service", _("Service")
    COMPETITOR = "competitor", _("Competitor")
    NEED_ENDED = "need_ended", _("Need ended")
    MOVED_CLOSED = "moved_closed", _("Moved or closed down")
    PAYMENT = "payment", _("Payment or credit")
    OTHER = "other", _("Other")


class LeadSource(models.TextChoices):
    """The seed's 14 prospecting methods, plus web and import."""

    DOOR_TO_DOOR = "door_to_door", _("Door-to-door")
    MEETING = "meeting", _("Meetings")
    CLUB = "club", _("Clubs")
    FRIENDS = "friends", _("Friends and relatives")
    DATA_LOOKUP = "data_lookup", _("Data lookup")
    CONSULTANCY = "consultancy", _("Consultancies")
    BIRD_DOG = "bird_dog", _("Bird-dog agents")
    REFERRAL = "referral", _("Referral")
    CENTRE_OF_INFLUENCE = "centre_of_influence", _("Centre of influence")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")
    SMS = "sms", _("SMS")
    INTERNET = "internet", _("Internet")
    COMPETITOR = "competitor", _("Competitor's customers")
    WEB_FORM = "web_form", _("Web form")
    IMPORT = "import", _("Import")


class DataSource(models.TextChoices):
    """Where the customer's data came from (DOMAIN.md §3): direct or indirect channels."""

    SURVEY = "survey", _("Survey")
    CAMPAIGN = "campaign", _("Campaign")
    SERVICE = "service", _("Service")
    POINT_OF_SALE = "point_of_sale", _("Point of sale")
    FAIR = "fair", _("Trade fair")
    WEBSITE = "website", _("Website")
    CALL_CENTRE = "call_centre", _("Call centre")
    COMPLAINT = "complaint", _("Complaint")
    MEDIA = "media", _("Media")
    REGISTRY = "registry", _("Public registry")
    BANK = "bank", _("Bank")
    CONSULTANCY = "consultancy", _("Consultancy")
    BOUGHT_LIST = "bought_list", _("Bought list")
    PARTNER = "partner", _("Partner")
    ASSOCIATION = "association", _("Association")


class AcquisitionMode(models.TextChoices):
    INBOUND = "inbound", _("Inbound (marketing-led)")
    OUTBOUND = "outbound", _("Outbound (sales-led)")


class CustomerType(models.TextChoices):
    """Dell's one-to-one model: T-type, R-type and key accounts picked from R-type."""

    TRANSACTIONAL = "T", _("Transactional (T)")
    RELATIONSHIP = "R", _("Relationship (R)")
    KEY_ACCOUNT = "key", _("Key account")


class UpgradePotential(models.TextChoices):
    NONE = "none", _("None")
    LOW = "low", _("Low")
    HIGH = "high", _("High")


class PaymentTerms(models.TextChoices):
    PREPAY = "prepay", _("Prepayment")
    CASH = "cash", _("Cash on delivery")
    NET = "net", _("Net N days")
    INSTALMENTS = "instalments", _("Instalments")


class Gender(models.TextChoices):
    FEMALE = "f", _("Female")
    MALE = "m", _("Male")
    OTHER = "x", _("Other")


class Tag(TimeStamped):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Referrer(TimeStamped):
    """A paid finder ("bird dog" agent or partner) who brings leads for a commission."""

    class Kind(models.TextChoices):
        AGENT = "agent", _("Agent (bird dog)")
        PARTNER = "partner", _("Partner")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.AGENT)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    commission_per_lead = money_field(verbose_name=_("commission per converted lead"))
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("referrer")
        verbose_name_plural = _("referrers")
        ordering = ["name"]

    def __str__(self):
        return self.name


class CustomFieldDefinition(TimeStamped):
    """An administrator-defined field; values are kept in Customer.custom_fields[key]."""

    class FieldType(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes/no")
        CHOICE = "choice", _("Choice")

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=16, choices=FieldType.choices, default=FieldType.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    applies_to = models.CharField(_("applies to"), max_length=16, choices=Kind.choices, blank=True)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["position", "key"]

    def __str__(self):
        return self.label


class Customer(TimeStamped, Versioned):
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.POTENTIAL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="owned_customers",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="customers",
    )
    # Contact and identity (normalised by services: phone E.164, e-mail lower-case).
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    # Person basics.
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    # Organisation basics.
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    # Where they came from.
    source = models.CharField(_("lead source"), max_length=32, choices=LeadSource.choices, blank=True)
    data_source = models.CharField(_("data source"), max_length=32, choices=DataSource.choices, blank=True)
    acquisition_mode = models.CharField(
        _("acquisition mode"), max_length=16, choices=AcquisitionMode.choices, blank=True
    )
    referred_by = models.ForeignKey(
        "self", verbose_name=_("referred by customer"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="referrals",
    )
    referrer = models.ForeignKey(
        Referrer, verbose_name=_("referred by agent/partner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="customers",
    )
    # Relationship management.
    customer_type = models.CharField(_("customer type"), max_length=8, choices=CustomerType.choices, blank=True)
    upgrade_potential = models.CharField(
        _("upgrade potential"), max_length=8, choices=UpgradePotential.choices, default=UpgradePotential.NONE
    )
    # Credit and terms.
    payment_terms = models.CharField(
        _("payment terms"), max_length=16, choices=PaymentTerms.choices, default=PaymentTerms.CASH
    )
    payment_days = models.PositiveSmallIntegerField(_("payment days"), default=0)
    credit_limit = money_field(verbose_name=_("credit limit"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    credit_rating = models.CharField(_("credit rating"), max_length=16, blank=True)
    credit_rating_source = models.CharField(_("credit rating source"), max_length=100, blank=True)
    credit_rating_date = models.DateField(_("credit rating date"), null=True, blank=True)
    # Consent.
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    opted_out_at = models.DateTimeField(_("opted out"), null=True, blank=True)
    # Profile sections, custom fields, notes, data quality.
    profile = models.JSONField(_("profile"), default=dict, blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    completeness = models.PositiveSmallIntegerField(_("profile completeness %"), default=0)
    last_verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["team", "-created_at"]),
            models.Index(fields=["state", "-created_at"]),
            models.Index(fields=["source"]),
            models.Index(fields=["phone"]),
            models.Index(fields=["email"]),
            models.Index(fields=["uscc"]),
            models.Index(fields=["-created_at", "-id"], name="customer_recent_idx"),
            models.Index(fields=["name"]),
        ]

    def __str__(self):
        return self.name

    @property
    def is_opted_out(self) -> bool:
        return self.opted_out_at is not None


class CustomerShare(TimeStamped):
    """A customer shared with a user who does not own it (sales reps see what is shared)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shared_customers")

    class Meta:
        verbose_name = _("share")
        verbose_name_plural = _("shares")
        constraints = [models.UniqueConstraint(fields=["user", "customer"], name="unique_customer_share")]


class CustomerSearch(models.Model):
    """Narrow search table (DESIGN.md "Search"): casefolded names, pinyin, initials, phone digits, e-mail."""

    customer = models.OneToOneField(Customer, primary_key=True, on_delete=models.CASCADE, related_name="search")
    owner_id = models.BigIntegerField(null=True, db_index=True)
    team_id = models.BigIntegerField(null=True, db_index=True)
    text = models.TextField()

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")


class Contact(TimeStamped, Versioned):
    """A person at an organisation customer (or a family member of a person customer)."""

    class ContactRole(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision-maker")
        INFLUENCER = "influencer", _("Influencer")
        PURCHASER = "purchaser", _("Purchaser")
        USER = "user", _("User")
        FINANCE = "finance", _("Finance")
        GATEKEEPER = "gatekeeper", _("Gatekeeper")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=ContactRole.choices, default=ContactRole.OTHER)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name"]

    def __str__(self):
        return self.name


class StateChange(models.Model):
    """One move between lifecycle states: from, to, when, who, why."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(_("from"), max_length=16, choices=State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=16, choices=State.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    reason_category = models.CharField(
        _("reason category"), max_length=16, choices=LostReason.choices, blank=True, default="", db_default="",
        help_text=_("Why the customer was lost; required on a move to lost."),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["customer", "-changed_at"]), models.Index(fields=["to_state", "changed_at"])]


class CustomerEvent(models.Model):
    """Timeline/audit entries for changes that have no table of their own (edits, reassignment, files)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    verb = models.CharField(max_length=32)
    summary = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer event")
        verbose_name_plural = _("customer events")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "-occurred_at"])]


class ImportantDate(TimeStamped):
    """Anniversaries and other dates worth a greeting (relationship start, founding day, …)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="important_dates")
    label = models.CharField(_("label"), max_length=100)
    date = models.DateField(_("date"))
    recurring = models.BooleanField(_("every year"), default=True)

    class Meta:
        verbose_name = _("important date")
        verbose_name_plural = _("important dates")
        ordering = ["date"]


class Attachment(TimeStamped):
    """A file on a customer (optionally on one of its opportunities); served only after visibility checks."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="attachments")
    opportunity = models.ForeignKey(
        "sales.Opportunity", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-created_at"]

    def __str__(self):
        return self.original_name
