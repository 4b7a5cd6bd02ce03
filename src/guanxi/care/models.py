"""Customer care (客户关怀): rules that greet and revisit customers, applied once per occurrence;
opt-outs; incident notices to every buyer of a product, batch or period."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import CURRENCY_CHOICES, TimeStamped, money_field
from guanxi.customers.models import CustomerType
from guanxi.insights.models import Grade


class CareRule(TimeStamped):
    class Kind(models.TextChoices):
        BIRTHDAY = "birthday", _("Birthday")
        HOLIDAY = "holiday", _("Holiday")
        AFTER_PURCHASE = "after_purchase", _("Revisit after a purchase")
        AFTER_COMPLAINT = "after_complaint", _("Revisit after a complaint closes")
        PERIODIC_VISIT = "periodic_visit", _("Periodic visit")
        ANNIVERSARY = "anniversary", _("Relationship anniversary")

    class Holiday(models.TextChoices):
        SPRING_FESTIVAL = "spring_festival", _("Spring Festival")
        LANTERN = "lantern", _("Lantern Festival")
        DRAGON_BOAT = "dragon_boat", _("Dragon Boat Festival")
        MID_AUTUMN = "mid_autumn", _("Mid-Autumn Festival")
        NATIONAL_DAY = "national_day", _("National Day")
        NEW_YEAR = "new_year", _("New Year's Day")
        VALENTINES = "valentines", _("Valentine's Day")
        CHRISTMAS = "christmas", _("Christmas")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    holiday = models.CharField(_("holiday"), max_length=20, choices=Holiday.choices, blank=True)
    days_before = models.PositiveSmallIntegerField(_("days before"), default=0)
    days_after = models.PositiveSmallIntegerField(_("days after"), default=0)
    interval_days = models.PositiveSmallIntegerField(_("every N days"), null=True, blank=True)
    # Periodic visits reach the customers of this grade in the current insights scoring run.
    grade = models.CharField(_("customers of grade"), max_length=6, choices=Grade.choices, blank=True, default="")
    customer_type = models.CharField(_("only customers of type"), max_length=8, choices=CustomerType.choices, blank=True)
    current_only = models.BooleanField(_("only current customers"), default=True)
    create_task = models.BooleanField(_("create a task for the owner"), default=True)
    send_email = models.BooleanField(_("send a greeting e-mail"), default=False)
    message = models.TextField(_("greeting"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("care rule")
        verbose_name_plural = _("care rules")
        ordering = ["name"]

    def __str__(self):
        return self.name


class CareFiring(TimeStamped):
    """A rule applied to a customer for one occurrence (this year's birthday, that order): exactly once."""

    rule = models.ForeignKey(CareRule, on_delete=models.CASCADE, related_name="firings")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="care_firings")
    occurrence = models.DateField(_("occurrence"))
    fired_on = models.DateField(_("fired on"))
    processed_at = models.DateTimeField(_("task/e-mail created"), null=True, blank=True)
    task = models.ForeignKey("engagement.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.ForeignKey("messaging.OutboundEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("care firing")
        verbose_name_plural = _("care firings")
        constraints = [models.UniqueConstraint(fields=["rule", "customer", "occurrence"], name="care_firing_once")]
        indexes = [models.Index(fields=["rule", "processed_at"])]


class CareOptOut(TimeStamped):
    """The customer does not want care contact (greetings, courtesy visits)."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="care_opt_out")
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("care opt-out")
        verbose_name_plural = _("care opt-outs")


class IncidentNotice(TimeStamped):
    """After a failure, tell every buyer of a product, of one of its batches, or in a period — any combination — at
    once (DOMAIN.md §5)."""

    product = models.ForeignKey("sales.Product", verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="incident_notices")
    batch = models.CharField(_("batch / lot"), max_length=40, blank=True, default="")
    bought_from = models.DateField(_("bought from"), null=True, blank=True)
    bought_to = models.DateField(_("bought until"), null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    message = models.TextField(_("message"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("incident notice")
        verbose_name_plural = _("incident notices")
        ordering = ["-created_at"]


class IncidentRecipient(models.Model):
    notice = models.ForeignKey(IncidentNotice, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    email = models.ForeignKey("messaging.OutboundEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "customer"], name="incident_recipient_once")]


# --- Campaigns -------------------------------------------------------------------------------------

class Segment(TimeStamped):
    """A saved customer filter (the customer list's filters plus type and province): a campaign's audience."""

    name = models.CharField(_("name"), max_length=100)
    filters = models.JSONField(_("filters"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Campaign(TimeStamped):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        TASK = "task", _("Tasks for the owners (calls, visits)")

    class CampaignStatus(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")

    name = models.CharField(_("name"), max_length=100)
    segment = models.ForeignKey(Segment, verbose_name=_("audience"), on_delete=models.PROTECT, related_name="campaigns")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(_("status"), max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    subject = models.CharField(_("subject"), max_length=200)
    message = models.TextField(_("message"))
    link_url = models.CharField(_("link"), max_length=300, default="/contact/")
    budget = money_field(verbose_name=_("budget"))
    cost = money_field(verbose_name=_("cost so far"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    holdout_percent = models.PositiveSmallIntegerField(_("hold-out group %"), default=10)
    response_days = models.PositiveSmallIntegerField(_("a purchase counts within (days)"), default=30)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class CampaignMember(models.Model):
    """One customer of the audience: contacted, or kept back in the hold-out group for comparison."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="campaign_memberships")
    is_holdout = models.BooleanField(_("hold-out"), default=False)
    email = models.ForeignKey("messaging.OutboundEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    task = models.ForeignKey("engagement.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(_("opened the link"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    purchased_at = models.DateTimeField(_("bought"), null=True, blank=True)
    revenue = money_field(verbose_name=_("revenue"))

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_member_once")]
        indexes = [models.Index(fields=["campaign", "is_holdout"])]
