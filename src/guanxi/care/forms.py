"""Forms only parse input into types; care.services validates the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.care.models import Campaign, CareRule
from guanxi.customers.models import CustomerType, State
from guanxi.insights.models import Grade, ValueSegment
from guanxi.sales.models import Product

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class CareRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("When"), choices=CareRule.Kind.choices)
    holiday = forms.ChoiceField(label=_("Holiday"), choices=[("", "—"), *CareRule.Holiday.choices], required=False)
    days_before = forms.IntegerField(label=_("Days before"), min_value=0, max_value=365, initial=0)
    days_after = forms.IntegerField(label=_("Days after"), min_value=0, max_value=365, initial=0)
    grade = forms.ChoiceField(label=_("Customers of grade (periodic visits)"), choices=[("", "—"), *Grade.choices], required=False,
                              help_text=_("Their grade in the current scoring run; customers never scored are not visited."))
    interval_days = forms.IntegerField(label=_("Every N days (periodic visits)"), min_value=1, max_value=3650, required=False,
                                       help_text=_("Leave empty to follow the grade's service policy."))
    customer_type = forms.ChoiceField(label=_("Only customers of type"), choices=[("", _("Any")), *CustomerType.choices], required=False)
    current_only = forms.BooleanField(label=_("Only current customers"), required=False, initial=True)
    create_task = forms.BooleanField(label=_("Create a task for the owner"), required=False, initial=True)
    send_email = forms.BooleanField(label=_("Send a greeting e-mail"), required=False)
    message = forms.CharField(label=_("Greeting"), max_length=5_000, required=False, widget=TEXTAREA)


class OptOutForm(forms.Form):
    customer = forms.IntegerField(label=_("Customer"), widget=forms.Select)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class IncidentForm(forms.Form):
    """Buyers of a product, of one of its batches, in a period — any combination."""

    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.order_by("name"), required=False)
    batch = forms.CharField(label=_("Batch / lot"), max_length=40, required=False,
                            help_text=_("Only buyers of this batch of the product."))
    bought_from = forms.DateField(label=_("Bought from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    bought_to = forms.DateField(label=_("Bought until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(label=_("Message"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 6}))


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    state = forms.ChoiceField(label=_("Audience: state"), choices=[("", _("Any")), *State.choices], required=False)
    province = forms.CharField(label=_("Audience: province"), max_length=50, required=False)
    customer_type = forms.ChoiceField(label=_("Audience: customer type"), choices=[("", _("Any")), *CustomerType.choices], required=False)
    tag = forms.CharField(label=_("Audience: tag"), max_length=50, required=False)
    grade = forms.ChoiceField(label=_("Audience: grade"), choices=[("", _("Any")), *Grade.choices], required=False,
                              help_text=_("In the current scoring run; internal, never shown to the customer."))
    value_segment = forms.ChoiceField(label=_("Audience: value matrix"), choices=[("", _("Any")), *ValueSegment.choices], required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Campaign.Channel.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(label=_("Message"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 5}))
    budget = forms.DecimalField(label=_("Budget"), max_digits=14, decimal_places=2, min_value=0, initial=0)
    cost = forms.DecimalField(label=_("Cost so far"), max_digits=14, decimal_places=2, min_value=0, initial=0)
    holdout_percent = forms.IntegerField(label=_("Hold-out group %"), min_value=0, max_value=50, initial=10)
    response_days = forms.IntegerField(label=_("A purchase counts within (days)"), min_value=1, max_value=365, initial=30)
