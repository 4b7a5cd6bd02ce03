"""Insights pages: the pyramid and the current scoring run, scores per grade, the warnings inbox.
Thin: parse, call one selector or service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.insights import selectors, services
from guanxi.insights.models import Grade, ScoringRun, ValueSegment, Warning, WarningKind
from guanxi.insights.tasks import score_customers
from guanxi.web.htmx import render_page
from guanxi.web.paging import paginate


def _latest_run():
    return ScoringRun.objects.select_related("started_by").order_by("-started_at", "-id").first()


@login_required
def home(request):
    context = {
        "pyramid": selectors.pyramid(request.user),
        "run": _latest_run(),
        "current": selectors.current_run(),
        "can_run": services.may_run_scoring(request.user),
        "churn_risks": selectors.churn_risks(request.user).select_related("customer"),
        "top_clv": selectors.current_scores(request.user).filter(clv__isnull=False)[:10],
        "grades": Grade,
    }
    return render_page(request, "insights/home.html", context)


@login_required
def run_status(request, pk: int):
    """The run's progress; htmx polls it every second while the run is going."""
    run = get_object_or_404(ScoringRun.objects.select_related("started_by"), pk=pk)
    return render_page(request, "insights/home.html", {"run": run, "can_run": services.may_run_scoring(request.user)},
                       partial="run")


@login_required
@require_POST
def run_start(request):
    try:
        run = services.start_scoring_run(actor=request.user)  # PermissionDenied for reps → 403
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("insights:home")
    score_customers.enqueue(run_id=run.pk)
    messages.success(request, _("Scoring started; the progress shows below."))
    return redirect("insights:home")


@login_required
def scores(request):
    grade = request.GET.get("grade") if request.GET.get("grade") in Grade.values else None
    segment = request.GET.get("segment") if request.GET.get("segment") in ValueSegment.values else None
    page = paginate(selectors.current_scores(request.user, grade=grade, value_segment=segment), request.GET.get("page"))
    context = {"page": page, "grade": grade, "segment": segment, "grades": Grade.choices, "segments": ValueSegment.choices}
    return render_page(request, "insights/scores.html", context, partial="results")


@login_required
def warnings_inbox(request):
    status = request.GET.get("status", "open")
    status = status if status in Warning.Status.values else None
    kind = request.GET.get("kind") if request.GET.get("kind") in WarningKind.values else None
    page = paginate(selectors.warnings_inbox(request.user, status=status, kind=kind), request.GET.get("page"))
    context = {"page": page, "status": status, "kind": kind, "statuses": Warning.Status.choices, "kinds": WarningKind.choices}
    return render_page(request, "insights/warnings.html", context, partial="results")


@login_required
@require_POST
def warning_action(request, pk: int, action: str):
    warning = get_object_or_404(selectors.visible_warnings(request.user), pk=pk)
    handle = {"acknowledge": services.acknowledge_warning, "resolve": services.resolve_warning}.get(action)
    if handle is None:
        return redirect("insights:warnings")
    try:
        handle(warning=warning, actor=request.user, note=request.POST.get("note", ""))
        messages.success(request, _("Warning updated."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/insights/") else "insights:warnings")
