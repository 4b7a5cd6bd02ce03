"""Complaint pages: the public form and "how to reach us", the staff list, intake and the case page.

Thin edges: parse with a form, call one service (through `services.perform` for workflow moves),
render. A complaint outside the user's view is a 404.
"""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.locking import StaleVersion
from guanxi.core.visibility import visible_customers
from guanxi.service import selectors, services, statistics
from guanxi.service.forms import ACTION_FORMS, PublicComplaintForm, StaffIntakeForm
from guanxi.service.models import Category, Severity, Status
from guanxi.service.workflow import IANA, IANA_LABELS, TRANSITIONS
from guanxi.web.htmx import render_page
from guanxi.web.paging import paginate


def _add_service_errors(form, error: ValidationError) -> None:
    aliases = {"contact_email": "email", "phone": "phone" if "phone" in form.fields else "contact_phone"}
    for key, msgs in error.message_dict.items():
        key = key if key in form.fields else aliases.get(key, key)
        form.add_error(key if key in form.fields else None, msgs)


# --- Public pages (no login) ----------------------------------------------------------------------

def _rate_limited(request) -> bool:
    """At most N form posts per address per window, counted in the shared cache (the address is hashed)."""
    limit, window = getattr(settings, "PUBLIC_COMPLAINT_RATE", (10, 3600))
    key = "public-complaint:" + hashlib.sha256(request.META.get("REMOTE_ADDR", "").encode()).hexdigest()[:32]
    cache.add(key, 0, window)
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return False


@require_http_methods(["GET", "POST"])
def public_complaint(request):
    form = PublicComplaintForm(request.POST or None)
    if request.method == "POST":
        if _rate_limited(request):
            form.add_error(None, _("Too many submissions from your address. Please try again in an hour, or call our hotline."))
            return render(request, "service/public_form.html", {"form": form}, status=429)
        if form.is_valid():
            data = form.cleaned_data
            if data.pop("website"):
                return redirect("service:public_done")  # a bot: looks like success, stores nothing
            try:
                complaint = services.submit_public_complaint(language=get_language(), **data)
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                request.session["complaint_reference"] = complaint.reference
                return redirect("service:public_done")
        return render(request, "service/public_form.html", {"form": form}, status=422)
    return render(request, "service/public_form.html", {"form": form})


def public_done(request):
    return render(request, "service/public_done.html", {"reference": request.session.pop("complaint_reference", None)})


def contact_page(request):
    """How to reach us: the channels, who handles complaints, the procedure and the promised times."""
    contact = {**services.DEFAULT_CONTACT, **getattr(settings, "SERVICE_CONTACT", {})}
    policies = [(label, *services.sla_for(value)[:2]) for value, label in Severity.choices]
    # The knowledge base's answers, so a customer reads here what the hotline and the agents would say.
    return render(request, "service/contact.html", {"contact": contact, "policies": policies,
                                                    "answers": selectors.search_articles("", limit=10)})


# --- Staff pages ----------------------------------------------------------------------------------

@login_required
def complaint_list(request):
    params = request.GET
    filters = {
        "status": params.get("status") if params.get("status") in Status.values else None,
        "severity": params.get("severity") if params.get("severity") in Severity.values else None,
        "category": params.get("category") if params.get("category") in Category.values else None,
        "open_only": params.get("open", "1") == "1",
        "search": params.get("q", "").strip()[:100] or None,
    }
    page = paginate(selectors.complaint_list(request.user, **filters), params.get("page"))
    now = timezone.now()
    for complaint in page.rows:
        complaint.sla = services.sla_state(complaint, now=now)
    context = {"page": page, "filters": filters, "q": params.get("q", ""), "statuses": Status.choices,
               "severities": Severity.choices, "categories": Category.choices,
               "alerts": selectors.open_defect_alerts()[:10]}
    return render_page(request, "service/list.html", context, partial="results")


def _picked_customer(user, raw):
    try:
        pk = int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return visible_customers(user).only("pk", "name").filter(pk=pk).first() if pk else None


@login_required
@require_http_methods(["GET", "POST"])
def complaint_create(request):
    picked = _picked_customer(request.user, request.GET.get("customer") or request.POST.get("customer"))
    form = StaffIntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("customer")
        try:
            complaint = services.receive_complaint(actor=request.user, customer=picked, language=get_language(), **data)
        except ValidationError as error:
            _add_service_errors(form, error)
        except PermissionDenied:
            raise
        else:
            messages.success(request, _("Complaint %(ref)s recorded.") % {"ref": complaint.reference})
            return redirect("service:detail", complaint.pk)
    return render(request, "service/new.html", {"form": form, "picked": picked}, status=422 if form.errors else 200)


def _action_forms(user, complaint, bound=None):
    forms = []
    for transition in services.actions_for(user, complaint):
        form_class = ACTION_FORMS[transition.action]
        if bound is not None and bound[0] == transition.action:
            form = bound[1]
        else:
            initial = {"version": complaint.version}
            if transition.action == "register":
                initial.update({name: getattr(complaint, name) for name in ("channel", "category", "severity", "reaction",
                                                                             "description", "desired_outcome")})
                initial["product"] = complaint.product_id
            form = form_class(initial=initial, prefix=transition.action)
        forms.append({"transition": transition, "form": form, "open": bool(bound and bound[0] == transition.action)})
    if forms and not any(f["open"] for f in forms):
        forms[0]["open"] = True
    return forms


def _detail_context(request, complaint, bound=None) -> dict:
    phase, prompt = IANA.get(complaint.status, ("", ""))
    return {
        "complaint": complaint, "steps": selectors.complaint_steps(complaint),
        "iana_phase": IANA_LABELS.get(phase, ""), "iana_prompt": prompt, "action_forms": _action_forms(request.user, complaint, bound),
        "sla": services.sla_state(complaint, now=timezone.now()),
        "can_take_over": services._is_approver(request.user) and complaint.is_open and complaint.handler_id != request.user.pk,
        "picked": complaint.customer, "emails": selectors.complaint_emails(complaint),
    }


@login_required
def complaint_detail(request, pk):
    complaint = selectors.complaint_detail(request.user, pk)
    return render(request, "service/detail.html", _detail_context(request, complaint))


@login_required
@require_POST
def complaint_act(request, pk, action):
    complaint = selectors.complaint_detail(request.user, pk)
    if action not in TRANSITIONS:
        raise Http404
    form = ACTION_FORMS[action](request.POST, prefix=action)
    status = 422
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        if action == "register":
            data["customer"] = _picked_customer(request.user, request.POST.get("customer"))
        try:
            services.perform(action=action, complaint=complaint, actor=request.user, expected_version=version, **data)
        except StaleVersion:
            form.add_error(None, _("Someone else moved this complaint first; here it is as it is now."))
            complaint, status = selectors.complaint_detail(request.user, pk), 409
        except ValidationError as error:
            _add_service_errors(form, error)
            complaint = selectors.complaint_detail(request.user, pk)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not do this."))
            complaint, status = selectors.complaint_detail(request.user, pk), 403
        else:
            messages.success(request, _("%(ref)s: %(label)s — done.") % {"ref": complaint.reference, "label": TRANSITIONS[action].label})
            return redirect("service:detail", pk)
    return render(request, "service/detail.html", _detail_context(request, complaint, bound=(action, form)), status=status)


@login_required
@require_POST
def complaint_take_over(request, pk):
    complaint = selectors.complaint_detail(request.user, pk)
    try:
        services.take_over(complaint=complaint, actor=request.user)
    except (PermissionDenied, ValidationError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, _("You now handle %(ref)s.") % {"ref": complaint.reference})
    return redirect("service:detail", pk)


@login_required
@require_POST
def complaint_backlog(request, pk):
    complaint = selectors.complaint_detail(request.user, pk)
    try:
        services.link_backlog_item(complaint=complaint, actor=request.user, title=request.POST.get("title", ""),
                                   kind=request.POST.get("kind", "improvement"))
    except (PermissionDenied, ValidationError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, _("Linked to the backlog."))
    return redirect("service:detail", pk)


@login_required
def complaint_statistics(request):
    figures = statistics.complaint_statistics(request.user)
    return render(request, "service/statistics.html", {"figures": figures, "charts": statistics.charts(figures)})


# --- After-sales service, knowledge base, dissatisfaction ------------------------------------------------

@login_required
def ticket_list(request):
    from guanxi.service.models import ServiceTicket

    status = request.GET.get("status") if request.GET.get("status") in ServiceTicket.TicketStatus.values else None
    page = paginate(selectors.service_tickets(request.user, status=status).order_by("-created_at", "-id"), request.GET.get("page"))
    return render(request, "service/tickets.html", {"page": page, "status": status, "statuses": ServiceTicket.TicketStatus.choices})


@login_required
@require_http_methods(["GET", "POST"])
def ticket_create(request):
    from guanxi.service.forms import TicketForm

    picked = _picked_customer(request.user, request.GET.get("customer") or request.POST.get("customer"))
    form = TicketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("customer")
        if picked is None:
            form.add_error("customer", _("Choose a customer."))
        else:
            try:
                ticket = services.open_service_ticket(customer=picked, actor=request.user, **data)
            except ValidationError as error:
                _add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                return redirect("service:ticket", ticket.pk)
    return render(request, "service/ticket_new.html", {"form": form, "picked": picked}, status=422 if form.errors else 200)


def _ticket_or_404(user, pk):
    from guanxi.service.models import ServiceTicket

    try:
        return selectors.service_tickets(user).get(pk=pk)
    except ServiceTicket.DoesNotExist:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request, pk):
    from guanxi.service.forms import CompleteTicketForm, PartForm, VisitForm

    ticket = _ticket_or_404(request.user, pk)
    visit_at = timezone.localtime(ticket.visit_at) if ticket.visit_at else None  # a booked visit is shown to move it
    forms = {"visit": VisitForm(initial={"version": ticket.version, "visit_at": visit_at, "address": ticket.visit_address or ticket.customer.address},
                                prefix="visit"),
             "part": PartForm(prefix="part"), "complete": CompleteTicketForm(initial={"version": ticket.version}, prefix="complete")}
    status = 200
    if request.method == "POST":
        which = request.POST.get("form")
        classes = {"visit": VisitForm, "part": PartForm, "complete": CompleteTicketForm}
        if which not in classes:
            raise Http404
        form = forms[which] = classes[which](request.POST, prefix=which)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if which == "visit":
                    services.schedule_visit(ticket=ticket, actor=request.user, expected_version=data["version"],
                                            visit_at=data["visit_at"], address=data["address"])
                elif which == "part":
                    services.record_part(ticket=ticket, actor=request.user, **data)
                else:
                    services.complete_service_ticket(ticket=ticket, actor=request.user, expected_version=data["version"],
                                                     resolution=data["resolution"])
            except StaleVersion:
                form.add_error(None, _("Someone else changed this ticket first; reload and try again."))
            except ValidationError as error:
                _add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Saved."))
                return redirect("service:ticket", pk)
        status = 422
    return render(request, "service/ticket.html", {"ticket": ticket, "forms": forms, "parts": ticket.parts.all()}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def knowledge_base(request):
    from guanxi.service.forms import ArticleForm

    q = request.GET.get("q", "").strip()[:100]
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_article(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Answer saved."))
            return redirect("service:knowledge")
    return render(request, "service/knowledge.html", {"q": q, "articles": selectors.search_articles(q), "form": form,
                                                      "can_edit": services._is_handler(request.user)},
                  status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def dissatisfaction_create(request):
    from guanxi.service.forms import DissatisfactionPageForm

    picked = _picked_customer(request.user, request.GET.get("customer") or request.POST.get("customer"))
    form = DissatisfactionPageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("customer")
        if picked is None:
            form.add_error("customer", _("Choose a customer."))
        else:
            try:
                services.record_dissatisfaction(customer=picked, actor=request.user, **data)
            except ValidationError as error:
                _add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Dissatisfaction recorded for %(name)s.") % {"name": picked.name})
                return redirect("service:list")
    return render(request, "service/dissatisfaction.html", {"form": form, "picked": picked}, status=422 if form.errors else 200)
