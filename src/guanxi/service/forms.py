"""Forms only parse input into types; the services validate the business rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import Department, Role, User
from guanxi.engagement.models import Channel
from guanxi.sales.models import Product
from guanxi.service.models import CausedBy, Category, Concerns, Reaction, Severity

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class PublicComplaintForm(forms.Form):
    """The public form: few fields, plain words. `website` is a honeypot humans never see."""

    name = forms.CharField(label=_("Your name"), max_length=100)
    email = forms.EmailField(label=_("Your e-mail"), help_text=_("We send your reference number here."))
    phone = forms.CharField(label=_("Phone (optional)"), max_length=32, required=False)
    order_number = forms.CharField(label=_("Order number (optional)"), max_length=32, required=False)
    category = forms.ChoiceField(label=_("What is it about?"), choices=Category.choices, initial=Category.OTHER)
    description = forms.CharField(label=_("What happened?"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 6}))
    desired_outcome = forms.CharField(label=_("What would you like us to do?"), max_length=5_000, required=False, widget=TEXTAREA)
    website = forms.CharField(label=_("Leave this empty"), required=False,
                              widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))


class StaffIntakeForm(forms.Form):
    customer = forms.IntegerField(label=_("Customer"), required=False, widget=forms.Select)
    contact_name = forms.CharField(label=_("Name (if not a customer yet)"), max_length=100, required=False)
    contact_email = forms.EmailField(label=_("E-mail"), required=False)
    contact_phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.HOTLINE)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.filter(is_active=True).order_by("name"), required=False)
    description = forms.CharField(label=_("What happened?"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 5}))
    desired_outcome = forms.CharField(label=_("What the customer wants"), max_length=5_000, required=False, widget=TEXTAREA)


class ActionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


def _handlers():
    return User.objects.filter(is_active=True, role__in=[Role.SERVICE, Role.MANAGER, Role.ADMIN]).order_by("username")


class RegisterForm(ActionForm):
    customer = forms.IntegerField(label=_("Customer"), required=False, widget=forms.Select)
    create_customer_from_contact = forms.BooleanField(label=_("New customer from the contact details"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.filter(is_active=True).order_by("name"), required=False)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    caused_by = forms.ChoiceField(label=_("Caused by"), choices=CausedBy.choices)
    concerns = forms.ChoiceField(label=_("About the"), choices=Concerns.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    reaction = forms.ChoiceField(label=_("Customer's reaction"), choices=Reaction.choices)
    description = forms.CharField(label=_("What happened"), max_length=10_000, widget=TEXTAREA)
    desired_outcome = forms.CharField(label=_("What the customer wants"), max_length=5_000, required=False, widget=TEXTAREA)


class NoteForm(ActionForm):
    note = forms.CharField(label=_("Note"), max_length=2_000, required=False, widget=TEXTAREA)


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("Reason (sent to the customer)"), max_length=5_000, widget=TEXTAREA)


class SendBackForm(ActionForm):
    reason = forms.CharField(label=_("Why it goes back"), max_length=2_000, widget=TEXTAREA)


class AssignForm(ActionForm):
    department = forms.ModelChoiceField(label=_("Responsible department"), queryset=Department.objects.order_by("name"))
    handler = forms.ModelChoiceField(label=_("Handled by"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = _handlers()


class CauseForm(ActionForm):
    cause = forms.CharField(label=_("Root cause"), max_length=100, help_text=_("Use the same words for the same cause: repeated causes on one product raise a defect alert."))
    analysis = forms.CharField(label=_("Analysis"), max_length=10_000, required=False, widget=TEXTAREA)


class ProposalForm(ActionForm):
    solution = forms.CharField(label=_("Solution"), max_length=10_000, widget=TEXTAREA)
    remedy_amount = forms.DecimalField(label=_("Remedy amount"), max_digits=14, decimal_places=2, min_value=0, initial=0)


class MessageForm(ActionForm):
    message = forms.CharField(label=_("Message to the customer (optional)"), max_length=5_000, required=False, widget=TEXTAREA)


class ResponseForm(ActionForm):
    rating = forms.TypedChoiceField(label=_("Satisfaction with the handling"), coerce=int, required=False, empty_value=None,
                                    choices=[("", "—"), *((i, str(i)) for i in range(1, 6))])
    note = forms.CharField(label=_("What the customer said"), max_length=2_000, required=False, widget=TEXTAREA)


class AccountabilityForm(ActionForm):
    responsible_person = forms.CharField(label=_("Responsible person"), max_length=100)
    measure = forms.CharField(label=_("Measure or penalty"), max_length=5_000, widget=TEXTAREA)


class EvaluationForm(ActionForm):
    evaluation = forms.CharField(label=_("Evaluation"), max_length=10_000, widget=TEXTAREA)


ACTION_FORMS = {
    "register": RegisterForm, "accept": NoteForm, "reject": ReasonForm, "assign_department": AssignForm,
    "analyse_cause": CauseForm, "propose_solution": ProposalForm, "approve": NoteForm, "send_back": SendBackForm,
    "carry_out": NoteForm, "notify_customer": MessageForm, "customer_satisfied": ResponseForm,
    "customer_unsatisfied": ResponseForm, "record_accountability": AccountabilityForm, "evaluate": EvaluationForm,
    "archive": ActionForm,
}


class DissatisfactionForm(forms.Form):
    reaction = forms.ChoiceField(label=_("Reaction"), choices=Reaction.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    note = forms.CharField(label=_("Note"), max_length=5_000, required=False, widget=TEXTAREA)


class TicketForm(forms.Form):
    customer = forms.IntegerField(label=_("Customer"), widget=forms.Select)
    kind = forms.ChoiceField(label=_("Kind"), choices=[])
    description = forms.CharField(label=_("What is needed"), max_length=10_000, widget=TEXTAREA)
    technician = forms.ModelChoiceField(label=_("Our technician"), queryset=User.objects.none(), required=False)
    partner = forms.ModelChoiceField(label=_("Or a partner"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        from guanxi.customers.models import Referrer
        from guanxi.service.models import ServiceTicket

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ServiceTicket.Kind.choices
        self.fields["technician"].queryset = _handlers()
        self.fields["partner"].queryset = Referrer.objects.filter(kind=Referrer.Kind.PARTNER, is_active=True).order_by("name")


class VisitForm(ActionForm):
    visit_at = forms.DateTimeField(label=_("Visit on"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    address = forms.CharField(label=_("Address"), max_length=300, required=False)


class CompleteTicketForm(ActionForm):
    resolution = forms.CharField(label=_("What was done"), max_length=10_000, widget=TEXTAREA)


class PartForm(forms.Form):
    description = forms.CharField(label=_("Part"), max_length=200)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, decimal_places=3, min_value=0, initial=1)
    unit_cost = forms.DecimalField(label=_("Unit cost"), max_digits=14, decimal_places=2, min_value=0, initial=0)


class ArticleForm(forms.Form):
    question = forms.CharField(label=_("Question"), max_length=300)
    answer = forms.CharField(label=_("Answer"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 5}))
    keywords = forms.CharField(label=_("Keywords"), max_length=300, required=False)


class DissatisfactionPageForm(DissatisfactionForm):
    customer = forms.IntegerField(label=_("Customer"), widget=forms.Select)
