"""Customer screens: the list, create/edit forms, the 360° page and its quick actions.

Thin edges: parse the request, call one selector or service, render. Reads start from
visible_customers(user) through customers.selectors, so an invisible customer is a 404.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from guanxi.accounts.models import Role, User
from guanxi.core.locking import StaleVersion
from guanxi.core.visibility import can_edit_customer, visible_customers
from guanxi.customers import selectors, services
from guanxi.customers.forms import (
    ContactForm,
    CustomerForm,
    InteractionForm,
    OpportunityForm,
    ReferralForm,
    StateChangeForm,
    TaskForm,
    conflict_rows,
)
from guanxi.customers.models import Customer, Kind, LeadSource, State, Tag
from guanxi.customers.profile import FIELD_LABELS, sections_for
from guanxi.customers.timeline import customer_timeline
from guanxi.engagement import services as engagement_services
from guanxi.engagement.models import Task
from guanxi.sales import services as sales_services
from guanxi.sales.selectors import opportunities_for, receivables_for
from guanxi.web.htmx import render_page, wants_fragment
from guanxi.web.paging import paginate
from guanxi.web.templatetags.guanxi import field as field_context

SORTS = {"name", "created_at", "state"}  # whitelisted sort columns (indexed)
FILTER_OWNER_LIMIT = 500
FILTER_TAG_LIMIT = 300
TIMELINE_LIMIT = 30


# --- List ------------------------------------------------------------------------------------

def _int_or_none(raw):
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@login_required
def customer_list(request):
    """Live search, filters, a whitelisted sort and capped pagination; the table alone for htmx."""
    params = request.GET
    filters = {
        "search": params.get("q", "").strip()[:100],
        "state": params.get("state") if params.get("state") in State.values else None,
        "owner": _int_or_none(params.get("owner")),
        "tag": params.get("tag", "").strip()[:50] or None,
        "source": params.get("source") if params.get("source") in LeadSource.values else None,
    }
    sort = params.get("sort", "")
    if sort.lstrip("-") not in SORTS or sort not in selectors.ORDERINGS:
        sort = selectors.DEFAULT_ORDERING
    page = paginate(selectors.customer_list(request.user, ordering=sort, **filters), params.get("page"))
    context = {
        "page": page,
        "q": filters["search"],
        "filters": filters,
        "sort": sort,
        "states": State.choices,
        "sources": LeadSource.choices,
        "filtered": any(filters.values()),
    }
    if not wants_fragment(request):
        context["owners"] = User.objects.filter(is_active=True).exclude(role__in=[Role.ANALYST]).order_by("username").only(
            "pk", "username", "first_name", "last_name")[:FILTER_OWNER_LIMIT]
        context["tags"] = Tag.objects.order_by("name").values_list("name", flat=True)[:FILTER_TAG_LIMIT]
    return render_page(request, "customers/list.html", context, partial="results")


# --- Create and edit -------------------------------------------------------------------------

def _duplicate_link(user, error) -> Customer | None:
    """The existing customer, if this user may open it (never reveal an invisible one)."""
    duplicate = getattr(error, "duplicate", None)
    if duplicate is not None and visible_customers(user).filter(pk=duplicate.pk).exists():
        return duplicate
    return None


def _form_page(request, form, *, customer=None, conflict=None, duplicate=None, status=200):
    context = {"form": form, "customer": customer, "kind": form.kind, "conflict": conflict, "duplicate": duplicate,
               "kinds": Kind.choices}
    return render_page(request, "customers/form.html", context, partial="form", status=status)


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request):
    if request.user.role in (Role.ANALYST, Role.SERVICE) and not request.user.is_superuser:
        raise PermissionDenied
    kind = request.POST.get("kind") or request.GET.get("kind") or Kind.PERSON
    if kind not in Kind.values:
        kind = Kind.PERSON
    if request.method == "GET":
        return _form_page(request, CustomerForm(kind=kind, creating=True))
    form = CustomerForm(request.POST, kind=kind, creating=True)
    if not form.is_valid():
        return _form_page(request, form)
    try:
        customer = services.create_customer(
            actor=request.user, kind=kind, state=form.cleaned_data["state"], tags=form.tag_names(), **form.service_fields()
        )
    except ValidationError as error:
        form.add_service_errors(error)
        return _form_page(request, form, duplicate=_duplicate_link(request.user, error))
    messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
    return redirect("customers:detail", pk=customer.pk)


# Fields whose format the services check beyond the form's types (validated on change, too).
FORMAT_CHECKS = {"phone": services.normalise_phone, "uscc": services.normalise_uscc}


@login_required
@require_http_methods(["POST"])
def validate_field(request):
    """Inline validation while typing: the one field `_field`, re-rendered with its errors (htmx)."""
    kind = request.POST.get("kind") if request.POST.get("kind") in Kind.values else Kind.PERSON
    form = CustomerForm(request.POST, kind=kind, creating="version" not in request.POST or not request.POST["version"])
    name = request.POST.get("_field", "")
    if name not in form.fields:
        raise Http404
    form.is_valid()
    check = FORMAT_CHECKS.get(name)
    if check and name not in form.errors and form.cleaned_data.get(name):
        try:
            check(form.cleaned_data[name])
        except ValidationError as error:
            form.add_service_errors(error)
    context = field_context(form[name], validate=reverse("customers:validate"))
    return render_page(request, "web/components/field.html", context)


def _editable_customer(request, pk) -> Customer:
    customer = selectors.customer_detail(request.user, pk)  # 404 when invisible
    if not can_edit_customer(request.user, customer):
        raise PermissionDenied
    return customer


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request, pk):
    customer = _editable_customer(request, pk)
    if request.method == "GET":
        form = CustomerForm(initial=CustomerForm.initial_for(customer), kind=customer.kind, creating=False)
        return _form_page(request, form, customer=customer)
    form = CustomerForm(request.POST, kind=customer.kind, creating=False)
    if not form.is_valid():
        return _form_page(request, form, customer=customer)
    expected = form.cleaned_data.get("version") or customer.version
    try:
        services.update_customer(
            customer=customer, actor=request.user, expected_version=expected, tags=form.tag_names(), **form.service_fields()
        )
    except StaleVersion as stale:
        current = selectors.customer_detail(request.user, pk)
        conflict = {"rows": conflict_rows(form, current), "version": current.version, "mine": expected}
        data = request.POST.copy()
        data["version"] = str(current.version)  # saving again applies the user's values on top of theirs
        kept = CustomerForm(data, kind=customer.kind, creating=False)
        kept.is_valid()
        return _form_page(request, kept, customer=current, conflict=conflict)
    except ValidationError as error:
        form.add_service_errors(error)
        return _form_page(request, form, customer=customer, duplicate=_duplicate_link(request.user, error))
    messages.success(request, _("Changes to “%(name)s” saved.") % {"name": customer.name})
    return redirect("customers:detail", pk=customer.pk)


# --- The 360° page ---------------------------------------------------------------------------

def _profile_sections(customer):
    sections = []
    for section, (title, schema) in sections_for(customer.kind).items():
        stored = (customer.profile or {}).get(section, {})
        rows = [(FIELD_LABELS.get(k, k), ", ".join(stored[k]) if isinstance(stored.get(k), list) else stored[k])
                for k in schema if stored.get(k) not in (None, "", [])]
        sections.append((title, rows))
    return sections


def _section_context(request, customer, section: str) -> dict:
    """What one refreshable part of the 360° page needs (timeline, tasks, opportunities)."""
    user = request.user
    if section == "timeline":
        return {"timeline": customer_timeline(user, customer, limit=TIMELINE_LIMIT)}
    if section == "tasks":
        from guanxi.engagement.selectors import tasks_for

        return {"open_tasks": list(tasks_for(user, customer=customer.pk, status=Task.Status.OPEN).select_related("assignee", "assignee_team")[:20])}
    if section == "contacts":
        return {"contacts": list(selectors.customer_contacts(user, customer.pk)[:50])}
    if section == "opportunities":
        return {"open_opportunities": list(opportunities_for(user, customer=customer.pk, is_open=True)[:20])}
    raise Http404


@login_required
def customer_detail(request, pk):
    user = request.user
    customer = selectors.customer_detail(user, pk)
    receivables = receivables_for(user, customer.pk)
    used = 0
    if customer.credit_limit > 0:
        used = min(100, int(receivables.balance * 100 / customer.credit_limit))
    context = {
        "customer": customer,
        "can_edit": can_edit_customer(user, customer),
        "profile_sections": _profile_sections(customer),
        "state_history": list(selectors.state_history(user, customer.pk)[:20]),
        "referrals": selectors.referred_customers(user, customer, max_depth=2)[:50],
        "referred_by_visible": customer.referred_by_id and visible_customers(user).filter(pk=customer.referred_by_id).exists(),
        "custom_values": _custom_values(customer),
        "receivables": receivables,
        "credit_used": used,
        "credit": _credit_context(user, customer),
    }
    for section in ("timeline", "tasks", "opportunities", "contacts"):
        context.update(_section_context(request, customer, section))
    return render_page(request, "customers/detail.html", context)


def _credit_context(user, customer) -> dict:
    """Collection stage, credit freeze and held orders for the receivables block (sales owns the rules)."""
    from guanxi.sales import selectors as sales_selectors
    from guanxi.sales import services as sales_services
    from guanxi.sales.models import CreditApproval

    return {
        "standing": sales_selectors.credit_standing(customer.pk),
        "held": CreditApproval.objects.filter(customer_id=customer.pk, decision=CreditApproval.Decision.PENDING).count(),
        "can_manage": sales_services.may_approve_credit(user),
    }


def _custom_values(customer):
    from guanxi.customers.models import CustomFieldDefinition

    values = customer.custom_fields or {}
    if not values:
        return []
    labels = dict(CustomFieldDefinition.objects.filter(key__in=list(values)).values_list("key", "label"))
    return [(labels.get(k, k), v) for k, v in values.items()]


@login_required
def customer_section(request, pk, section):
    """One part of the 360° page, re-fetched by htmx after a quick action changes it."""
    customer = selectors.customer_detail(request.user, pk)
    context = {"customer": customer, "can_edit": can_edit_customer(request.user, customer)}
    context.update(_section_context(request, customer, section))
    if not wants_fragment(request):
        return redirect("customers:detail", pk=pk)
    return render_page(request, "customers/detail.html", context, partial=section)


# --- Quick actions (a modal over the 360° page; a plain page without JavaScript) -------------

def _quick_action(request, customer, *, form, title, action_url, submit_label):
    context = {"customer": customer, "form": form, "title": title, "action_url": action_url, "submit_label": submit_label}
    return render_page(request, "customers/quick_action.html", context, partial="dialog")


def _done(request, customer, message, *events):
    """After a quick action: close the modal and refresh what changed (htmx), else back to the page."""
    if wants_fragment(request):
        response = HttpResponse(status=200)
        response["HX-Trigger"] = json.dumps({"closeModal": True, **{e: True for e in events}})
        return response
    messages.success(request, message)
    return redirect("customers:detail", pk=customer.pk)


@login_required
@require_http_methods(["GET", "POST"])
def change_state(request, pk):
    customer = _editable_customer(request, pk)
    form = StateChangeForm(request.POST or None, current=customer.state)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_state(customer=customer, to=form.cleaned_data["to"], reason=form.cleaned_data["reason"],
                                  reason_category=form.cleaned_data["reason_category"], actor=request.user)
        except ValidationError as error:
            for key, msgs in error.message_dict.items():
                form.add_error(key if key in form.fields else None, msgs)
        else:
            message = _("State changed to %(state)s.") % {"state": customer.get_state_display()}
            if wants_fragment(request):
                messages.success(request, message)
                response = HttpResponse(status=200)
                response["HX-Refresh"] = "true"  # the header, badge and history all change
                return response
            messages.success(request, message)
            return redirect("customers:detail", pk=customer.pk)
    return _quick_action(request, customer, form=form, title=_("Change state"),
                         action_url=reverse("customers:change_state", args=[pk]), submit_label=_("Change state"))


@login_required
@require_http_methods(["GET", "POST"])
def log_interaction(request, pk):
    customer = _editable_customer(request, pk)
    form = InteractionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            engagement_services.log_interaction(customer=customer, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            for key, msgs in error.message_dict.items():
                form.add_error(key if key in form.fields else None, msgs)
        else:
            return _done(request, customer, _("Interaction logged."), "timelineChanged")
    return _quick_action(request, customer, form=form, title=_("Log an interaction"),
                         action_url=reverse("customers:log_interaction", args=[pk]), submit_label=_("Log interaction"))


@login_required
@require_http_methods(["GET", "POST"])
def add_task(request, pk):
    customer = _editable_customer(request, pk)
    form = TaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            engagement_services.create_task(customer=customer, actor=request.user, assignee=request.user, **form.cleaned_data)
        except ValidationError as error:
            for key, msgs in error.message_dict.items():
                form.add_error(key if key in form.fields else None, msgs)
        else:
            return _done(request, customer, _("Task added."), "timelineChanged", "tasksChanged")
    return _quick_action(request, customer, form=form, title=_("Add a task"),
                         action_url=reverse("customers:add_task", args=[pk]), submit_label=_("Add task"))


@login_required
@require_http_methods(["GET", "POST"])
def add_opportunity(request, pk):
    customer = _editable_customer(request, pk)
    form = OpportunityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sales_services.create_opportunity(customer=customer, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            for key, msgs in error.message_dict.items():
                form.add_error(key if key in form.fields else None, msgs)
        else:
            return _done(request, customer, _("Opportunity created."), "timelineChanged", "opportunitiesChanged")
    return _quick_action(request, customer, form=form, title=_("Create an opportunity"),
                         action_url=reverse("customers:add_opportunity", args=[pk]), submit_label=_("Create opportunity"))


@login_required
@require_http_methods(["GET", "POST"])
def add_contact(request, pk):
    customer = _editable_customer(request, pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = {k: ("" if v is None and k != "birthday" else v) for k, v in form.cleaned_data.items()}
        try:
            services.create_contact(customer=customer, actor=request.user, **fields)
        except ValidationError as error:
            for key, msgs in error.message_dict.items():
                form.add_error(key if key in form.fields else None, msgs)
        else:
            return _done(request, customer, _("Contact added."), "contactsChanged", "timelineChanged")
    return _quick_action(request, customer, form=form, title=_("Add a contact"),
                         action_url=reverse("customers:add_contact", args=[pk]), submit_label=_("Add contact"))


REFERRAL_CANDIDATES = 10


@login_required
@require_http_methods(["GET", "POST"])
def set_referral(request, pk):
    """Pick the referring customer by live search (only customers the user may see), or an agent/partner."""
    from guanxi.customers.search import search_customers

    customer = _editable_customer(request, pk)
    q = request.GET.get("q", "").strip()[:100]
    if request.method == "POST":
        candidates = visible_customers(request.user).exclude(pk=customer.pk)
    elif q:
        candidates = search_customers(request.user, q).exclude(pk=customer.pk).order_by("name")
    else:
        candidates = visible_customers(request.user).filter(pk=customer.referred_by_id or 0)
    initial = {"referred_by": customer.referred_by_id, "referrer": customer.referrer_id}
    form = ReferralForm(request.POST or None, initial=initial, candidates=candidates)
    if request.method == "GET" and q:
        form.fields["referred_by"].queryset = candidates[:REFERRAL_CANDIDATES]
        return render_page(request, "customers/referral.html", {"customer": customer, "form": form}, partial="candidates")
    if request.method == "POST" and form.is_valid():
        try:
            services.set_referral(customer=customer, actor=request.user, referred_by=form.cleaned_data["referred_by"],
                                  referrer=form.cleaned_data["referrer"])
        except ValidationError as error:
            for key, msgs in error.message_dict.items():
                form.add_error(key if key in form.fields else None, msgs)
        else:
            if wants_fragment(request):
                messages.success(request, _("Referral saved."))
                response = HttpResponse(status=200)
                response["HX-Refresh"] = "true"
                return response
            messages.success(request, _("Referral saved."))
            return redirect("customers:detail", pk=customer.pk)
    if request.method == "POST":
        form.fields["referred_by"].queryset = candidates.filter(pk=request.POST.get("referred_by") or 0)
    context = {"customer": customer, "form": form, "title": _("Who referred this customer"),
               "action_url": reverse("customers:set_referral", args=[pk]), "submit_label": _("Save")}
    return render_page(request, "customers/referral.html", context, partial="dialog")
