"""Tasks and interactions: "my tasks" by day, team tasks, completing and reassigning, the interaction log.

Thin edges over engagement.selectors and engagement.services; a task or customer outside the
user's view is a 404.
"""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.accounts.models import Role, Team, User
from guanxi.core.locking import StaleVersion
from guanxi.core.visibility import is_read_only, visible_customers
from guanxi.customers.forms import InteractionForm, TaskForm
from guanxi.customers.search import search_customers
from guanxi.engagement import selectors, services
from guanxi.engagement.models import Channel, ContentType, Direction, SalesPhase, Task
from guanxi.web.htmx import render_page, wants_fragment
from guanxi.web.paging import paginate

ASSIGNEE_LIMIT = 500


def _int_or_none(raw):
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _assignees():
    return User.objects.filter(is_active=True).exclude(role=Role.ANALYST).order_by("username").only(
        "pk", "username", "first_name", "last_name")[:ASSIGNEE_LIMIT]


def _visible_customer(user, pk):
    return visible_customers(user).only("pk", "name", "owner_id").filter(pk=pk).first() if pk else None


def _add_service_errors(form, error: ValidationError) -> None:
    for key, msgs in error.message_dict.items():
        form.add_error(key if key in form.fields else None, msgs)


# --- Tasks -----------------------------------------------------------------------------------

def _team_tasks(user):
    """Open tasks of the user's team: assigned to the team or to one of its members."""
    if not user.team_id:
        return selectors.tasks_for(user).none()
    return selectors.tasks_for(user, status=Task.Status.OPEN).filter(Q(assignee_team_id=user.team_id) | Q(assignee__team_id=user.team_id))


@login_required
def task_list(request):
    view = "team" if request.GET.get("view") == "team" else "mine"
    context = {"view": view, "can_change": not is_read_only(request.user)}
    if view == "team":
        context["page"] = paginate(_team_tasks(request.user), request.GET.get("page"))
    else:
        buckets = selectors.my_tasks(request.user)
        context["groups"] = [
            ("overdue", _("Overdue"), buckets.overdue),
            ("today", _("Today"), buckets.today),
            ("upcoming", _("Upcoming"), buckets.upcoming),
        ]
        context["has_tasks"] = any(tasks for _key, _label, tasks in context["groups"])
    return render_page(request, "engagement/tasks.html", context, partial="team_results" if view == "team" else None)


def _task_or_404(user, pk) -> Task:
    try:
        return selectors.visible_tasks(user).get(pk=pk)
    except Task.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def complete_task(request, pk):
    """Tick a task off; htmx swaps its row (done, or the current state after someone else's change)."""
    task = _task_or_404(request.user, pk)
    version = _int_or_none(request.POST.get("version"))
    notice, status = "", 200
    try:
        task = services.complete_task(task=task, actor=request.user, expected_version=version if version is not None else -1)
        notice = _("Done: “%(title)s”.") % {"title": task.title}
    except StaleVersion:
        task = _task_or_404(request.user, pk)
        notice, status = _("Someone else changed this task first; here it is as it is now."), 409
    except ValidationError as error:
        notice, status = " ".join(m for msgs in error.message_dict.values() for m in msgs), 422
    except PermissionDenied:
        notice, status = _("You may not change this task."), 403
    if wants_fragment(request):
        # Swapped even on a conflict: the row shows the task as it now is, with the reason.
        return render(request, "engagement/tasks.html#task_row",
                      {"task": task, "notice": notice, "can_change": not is_read_only(request.user)})
    (messages.success if status == 200 else messages.error)(request, notice)
    return redirect("engagement:tasks")


class ReassignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    assignee = forms.ModelChoiceField(label=gettext_lazy("Assign to"), queryset=User.objects.none(), required=False)
    assignee_team = forms.ModelChoiceField(label=gettext_lazy("Or to a team"), queryset=Team.objects.order_by("name"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(is_active=True).exclude(role=Role.ANALYST).order_by("username")


@login_required
@require_http_methods(["GET", "POST"])
def reassign_task(request, pk):
    task = _task_or_404(request.user, pk)
    form = ReassignForm(request.POST or None, initial={"version": task.version, "assignee": task.assignee_id, "assignee_team": task.assignee_team_id})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.reassign_task(task=task, actor=request.user, expected_version=data["version"],
                                   assignee=data["assignee"], assignee_team=data["assignee_team"])
        except StaleVersion:
            form.add_error(None, _("Someone else changed this task first. Close this and try again."))
        except ValidationError as error:
            _add_service_errors(form, error)
        except PermissionDenied:
            form.add_error(None, _("You may not change this task."))
        else:
            messages.success(request, _("“%(title)s” reassigned.") % {"title": task.title})
            if wants_fragment(request):
                response = HttpResponse(status=200)
                response["HX-Trigger"] = json.dumps({"closeModal": True})
                response["HX-Refresh"] = "true"
                return response
            return redirect("engagement:tasks")
    context = {"form": form, "task": task, "title": _("Reassign"), "action_url": reverse("engagement:reassign", args=[pk]),
               "submit_label": _("Reassign")}
    return render_page(request, "engagement/dialog.html", context, partial="dialog")


class NewTaskForm(TaskForm):
    assignee = forms.ModelChoiceField(label=gettext_lazy("Assign to"), queryset=User.objects.none(), required=False,
                                      help_text=gettext_lazy("Leave both empty to keep it yourself."))
    assignee_team = forms.ModelChoiceField(label=gettext_lazy("Or to a team"), queryset=Team.objects.order_by("name"), required=False)
    customer = forms.IntegerField(label=gettext_lazy("Customer"), required=False, widget=forms.Select)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _assignees()


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request):
    if is_read_only(request.user):
        raise PermissionDenied
    picked = _visible_customer(request.user, _int_or_none(request.GET.get("customer") or request.POST.get("customer")))
    form = NewTaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("customer")
        if form.cleaned_data["customer"] and picked is None:
            form.add_error("customer", _("Choose a customer."))
        else:
            if data["assignee"] is None and data["assignee_team"] is None:
                data["assignee"] = request.user
            try:
                services.create_task(actor=request.user, customer=picked, **data)
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                messages.success(request, _("Task “%(title)s” added.") % {"title": data["title"]})
                return redirect("engagement:tasks")
    return render(request, "engagement/task_form.html", {"form": form, "picked": picked}, status=422 if form.errors else 200)


# --- Interactions ------------------------------------------------------------------------------

@login_required
def interaction_list(request):
    params = request.GET

    def choice(name, choices):
        return params.get(name) if params.get(name) in choices.values else None

    filters = {"channel": choice("channel", Channel), "direction": choice("direction", Direction),
               "content_type": choice("content_type", ContentType), "phase": choice("phase", SalesPhase)}
    q = params.get("q", "").strip()[:100]
    interactions = selectors.interactions_for(request.user, **filters)
    if q:
        interactions = interactions.filter(customer_id__in=search_customers(request.user, q).values("pk"))
    page = paginate(interactions, params.get("page"))
    context = {"page": page, "filters": filters, "q": q, "filtered": bool(q or any(filters.values())),
               "can_edit": not is_read_only(request.user),
               "channels": Channel.choices, "directions": Direction.choices, "content_types": ContentType.choices,
               "phases": SalesPhase.choices}
    return render_page(request, "engagement/interactions.html", context, partial="results")


class NewInteractionForm(InteractionForm):
    customer = forms.IntegerField(label=gettext_lazy("Customer"), widget=forms.Select,
                                  error_messages={"required": gettext_lazy("Choose a customer.")})

    field_order = ["customer"]


@login_required
@require_http_methods(["GET", "POST"])
def interaction_create(request):
    if is_read_only(request.user):
        raise PermissionDenied
    picked = _visible_customer(request.user, _int_or_none(request.GET.get("customer") or request.POST.get("customer")))
    form = NewInteractionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("customer")
        if picked is None:
            form.add_error("customer", _("Choose a customer."))
        else:
            try:
                services.log_interaction(customer=picked, actor=request.user, **data)
            except ValidationError as error:
                _add_service_errors(form, error)
            except PermissionDenied:
                form.add_error(None, _("You may not change this customer."))
            else:
                messages.success(request, _("Interaction with %(name)s logged.") % {"name": picked.name})
                return redirect("engagement:interactions")
    return render(request, "engagement/interaction_form.html", {"form": form, "picked": picked}, status=422 if form.errors else 200)
