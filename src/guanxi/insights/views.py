"""Insights pages: the pyramid and the current scoring run, scores per grade, the warnings inbox.
Thin: parse, call one selector or service, render."""

import datetime
import functools
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.accounts.models import Role, User
from guanxi.insights import selectors, services
from guanxi.insights.models import (
    BehaviourSegment, CustomerScore, Grade, GradeHistory, ScoringRun, Stage, ValueSegment, Warning, WarningKind,
)
from guanxi.insights.tasks import score_customers
from guanxi.web.htmx import render_page, wants_fragment
from guanxi.web.paging import paginate

OWNER_CHOICES_LIMIT = 200


def _latest_run():
    return ScoringRun.objects.select_related("started_by").order_by("-started_at", "-id").first()


def _owner_choices(user):
    """Whom a manager can narrow the figures to; a rep sees only their own book, so gets no choice."""
    if user.role == Role.SALES and not user.is_superuser:
        return None
    return (User.objects.filter(is_active=True, role__in=[Role.SALES, Role.MANAGER]).order_by("username")
            .only("pk", "username", "first_name", "last_name")[:OWNER_CHOICES_LIMIT])


def _int_param(raw, low: int, high: int) -> int | None:
    """A whole number in [low, high]; ValueError otherwise (None when absent)."""
    if raw in (None, ""):
        return None
    value = int(raw)
    if not low <= value <= high:
        raise ValueError(raw)
    return value


def _money_param(raw) -> Decimal | None:
    if raw in (None, ""):
        return None
    value = Decimal(raw)
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise ValueError(raw)
    return value


def _choice_param(raw, choices) -> str | None:
    if raw in (None, ""):
        return None
    if raw not in choices.values:
        raise ValueError(raw)
    return raw


# The scores page's query parameters → current_scores' keyword arguments, with their parsers.
SCORE_PARAMS = {
    "grade": ("grade", lambda raw: _choice_param(raw, Grade)),
    "segment": ("value_segment", lambda raw: _choice_param(raw, ValueSegment)),
    "behaviour": ("behaviour_segment", lambda raw: _choice_param(raw, BehaviourSegment)),
    "stage": ("stage", lambda raw: _choice_param(raw, Stage)),
    "r": ("recency_score", lambda raw: _int_param(raw, 1, 9)),
    "f": ("frequency_score", lambda raw: _int_param(raw, 1, 9)),
    "cell": ("rfm_cell", lambda raw: _int_param(raw, 111, 999)),
    "clv_min": ("clv_min", _money_param),
    "clv_max": ("clv_max", _money_param),
    "owner": ("owner", lambda raw: _int_param(raw, 1, 2**63 - 1)),
}


def parse_score_filters(params) -> tuple[dict, dict, list[str]]:
    """(the selector's keyword arguments, the valid query values, the names of invalid ones)."""
    filters, values, invalid = {}, {}, []
    for name, (argument, parse) in SCORE_PARAMS.items():
        try:
            value = parse(params.get(name, "").strip())
        except (ValueError, ArithmeticError):
            invalid.append(name)
            continue
        if value is not None:
            filters[argument], values[name] = value, params[name].strip()
    return filters, values, invalid


def scores_url(**params) -> str:
    """The scores page listing exactly the customers a chart number counts."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{reverse('insights:scores')}?{query}" if query else reverse("insights:scores")


def _charts(user, current, owner: int | None) -> dict:
    """Every chart's figures (one GROUP BY each), as the tables show them and charts.js draws them,
    each number carrying the link to the customers it counts."""
    link = functools.partial(scores_url, owner=owner)
    pyramid = selectors.pyramid(user, owner=owner)
    grade_names = dict(Grade.choices)
    for row in pyramid:
        row["label"], row["url"] = str(grade_names[row["grade"]]), link(grade=row["grade"])
    heatmap = selectors.rfm_heatmap(user, owner=owner, bins=int((current.parameters or {}).get("rfm_bins", 5)))
    for row in heatmap["rows"]:
        row["url"] = link(r=row["r"])
        for cell in row["cells"]:
            cell["url"] = link(r=cell["r"], f=cell["f"])
    for column in heatmap["columns"]:
        column["url"] = link(f=column["f"])
    value = selectors.segment_figures(user, "value_segment", ValueSegment.choices, owner=owner)
    behaviour = selectors.segment_figures(user, "behaviour_segment", BehaviourSegment.choices, owner=owner)
    stages = selectors.segment_figures(user, "stage", Stage.choices, owner=owner)
    for rows, param in ((value, "segment"), (behaviour, "behaviour"), (stages, "stage")):
        for row in rows:
            row["url"] = link(**{param: row["segment"]})
    clv = selectors.clv_distribution(user, owner=owner)
    for bucket in clv["buckets"]:
        bucket["url"] = link(clv_min=bucket["low"], clv_max=bucket["high"])
        bucket["label"] = (f"≥ {bucket['low']:,}" if bucket["high"] is None else
                           f"< {bucket['high']:,}" if bucket["low"] is None else f"{bucket['low']:,}–{bucket['high']:,}")
    # Quadrant positions: (x, y) = (frequency high?, average value high?) and (frequency high?, recent?).
    value_at = {"best": (1, 1), "frequent": (1, 0), "spender": (0, 1), "uncertain": (0, 0)}
    behaviour_at = {"loyal": (1, 1), "new": (0, 1), "at_risk": (1, 0), "lapsed": (0, 0)}

    def matrix(rows, at, x_name, y_name, y_labels):
        return {"kind": "matrix", "series_name": _("Customers"), "x_name": x_name, "y_name": y_name,
                "x_labels": [_("Rare"), _("Frequent")], "y_labels": y_labels, "profit_name": _("Profit to date"),
                "cells": [{"x": at[r["segment"]][0], "y": at[r["segment"]][1], "value": r["customers"], "label": r["label"],
                           "profit": str(r["profit"]), "url": r["url"]} for r in rows]}

    return {
        "pyramid": pyramid, "heatmap": heatmap, "value": value, "behaviour": behaviour, "stages": stages, "clv": clv,
        "specs": {
            "pyramid": {"kind": "pyramid", "customers_name": _("Customers"), "profit_name": _("Profit to date"),
                        "rows": [{"label": r["label"], "customers": r["customers"], "customers_share": r["count_share"],
                                  "profit": str(r["profit"]), "profit_share": r["profit_share"], "url": r["url"]} for r in pyramid]},
            "heatmap": {"kind": "heatmap", "series_name": _("Customers"), "x_name": _("F score (orders)"),
                        "y_name": _("R score (recency)"), "average_name": _("Average revenue to date"),
                        "x_labels": [str(c["f"]) for c in heatmap["columns"]], "y_labels": [str(r["r"]) for r in reversed(heatmap["rows"])],
                        "cells": [{"x": c["f"] - 1, "y": c["r"] - 1, "value": c["customers"],
                                   "average": str(c["average_revenue"]) if c["average_revenue"] is not None else None,
                                   "url": c["url"]} for r in heatmap["rows"] for c in r["cells"]]},
            "value": matrix(value, value_at, _("Purchase frequency"), _("Average purchase value"), [_("Low"), _("High")]),
            "behaviour": matrix(behaviour, behaviour_at, _("Purchase frequency"), _("Recency"), [_("Lapsed"), _("Recent")]),
            "stages": {"kind": "bar", "series_name": _("Customers"),
                       "rows": [{"label": r["label"], "value": r["customers"], "url": r["url"]} for r in stages]},
            "clv": {"kind": "bar", "series_name": _("Customers"),
                    "rows": [{"label": b["label"], "value": b["customers"], "url": b["url"]} for b in clv["buckets"]]},
        },
    }


def _warnings_chart(user) -> dict:
    rows = selectors.warnings_overview(user)
    base = reverse("insights:warnings")
    for row in rows:
        row["open_url"] = f"{base}?{urlencode({'status': 'open', 'kind': row['kind']})}"
        row["acknowledged_url"] = f"{base}?{urlencode({'status': 'acknowledged', 'kind': row['kind']})}"
    spec = {"kind": "stacked", "series_name": _("Open"), "second_name": _("Acknowledged"),
            "rows": [{"label": r["label"], "value": r["open"], "url": r["open_url"], "second": r["acknowledged"],
                      "second_url": r["acknowledged_url"]} for r in rows]}
    return {"rows": rows, "spec": spec}


@login_required
def home(request):
    current = selectors.current_run()
    owners = _owner_choices(request.user)
    try:
        owner = _int_param(request.GET.get("owner", "").strip(), 1, 2**63 - 1) if owners is not None else None
    except ValueError:
        owner = None
    context = {
        "run": _latest_run(),
        "current": current,
        "can_run": services.may_run_scoring(request.user),
        "owners": owners,
        "owner": owner,
        "warnings_chart": _warnings_chart(request.user),
        "scores_link": functools.partial(scores_url, owner=owner),
    }
    if current is not None:
        from guanxi.web.dashboard import cached_if_slow

        def figures():
            return {"charts": _charts(request.user, current, owner),
                    "churn_risks": list(selectors.churn_risks(request.user, owner=owner).select_related("customer")),
                    "top_clv": list(selectors.top_clv(request.user, owner=owner))}

        # A firm-wide view at 100k customers takes about a second; a new run changes the key.
        key = f"guanxi:insights:charts:{request.user.pk}:{owner}:{current.pk}:{current.started_at.timestamp()}:{get_language()}"
        context |= cached_if_slow(key, figures) | {"at_risk_url": scores_url(behaviour="at_risk", owner=owner)}
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
    filters, values, invalid = parse_score_filters(request.GET)
    scores = selectors.current_scores(request.user, **filters) if not invalid else CustomerScore.objects.none()
    owners = _owner_choices(request.user) if not wants_fragment(request) else None
    context = {"page": paginate(scores, request.GET.get("page")), "values": values, "invalid": invalid,
               "grades": Grade.choices, "segments": ValueSegment.choices, "behaviours": BehaviourSegment.choices,
               "stages": Stage.choices, "owners": owners, "score_range": range(1, 10),
               **_target_context(request, {"scores": filters})}
    return render_page(request, "insights/scores.html", context, partial="results", status=400 if invalid else 200)


def _date_param(raw, default: datetime.date) -> datetime.date:
    return datetime.date.fromisoformat(raw) if raw else default


@login_required
def grade_moves(request):
    """Upgrades and downgrades in a period (the current run's month unless from/to say otherwise):
    a from → to table whose counts link to the moves they count, and the moves, paginated."""
    current = selectors.current_run()
    start, end = selectors.period_bounds("month", current.as_of if current else timezone.localdate())
    params, invalid = request.GET, []
    try:
        start = _date_param(params.get("from", "").strip(), start)
    except ValueError:
        invalid.append("from")
    try:
        end = _date_param(params.get("to", "").strip(), end)
    except ValueError:
        invalid.append("to")
    filters = {}
    for name in ("from_grade", "to_grade"):
        try:
            filters[name] = _choice_param(params.get(name, "").strip(), Grade)
        except ValueError:
            invalid.append(name)
    direction = params.get("direction") if params.get("direction") in ("up", "down") else None
    if end < start:
        invalid.append("to")
    base = reverse("insights:grades")
    period = {"from": start.isoformat(), "to": end.isoformat()}
    names = dict(Grade.choices)
    transitions = {} if invalid else selectors.grade_transitions(request.user, start=start, end=end)
    rank = {g: i for i, g in enumerate(selectors.GRADE_ORDER)}
    table = [{"grade": a, "label": names[a], "cells": [
        {"to": b, "moves": transitions.get((a, b), 0), "diagonal": a == b, "up": rank[b] < rank[a],
         "url": f"{base}?{urlencode(period | {'from_grade': a, 'to_grade': b})}"} for b in selectors.GRADE_ORDER]}
        for a in selectors.GRADE_ORDER]
    moves = GradeHistory.objects.none() if invalid else selectors.grade_moves(request.user, start=start, end=end, direction=direction, **filters)
    upgrades = sum(n for (a, b), n in transitions.items() if rank.get(b, 0) < rank.get(a, 0))
    downgrades = sum(n for (a, b), n in transitions.items() if rank.get(b, 0) > rank.get(a, 0))
    context = {
        "start": start, "end": end, "invalid": invalid, "table": table, "grades": Grade.choices, "filters": filters,
        "direction": direction, "page": paginate(moves, params.get("page")),
        "upgrades": upgrades, "downgrades": downgrades,
        "upgrades_url": f"{base}?{urlencode(period | {'direction': 'up'})}",
        "downgrades_url": f"{base}?{urlencode(period | {'direction': 'down'})}",
        "previous_url": f"{base}?{urlencode(_month_period(selectors.period_shift('month', start.replace(day=1), -1)))}",
        "next_url": f"{base}?{urlencode(_month_period(selectors.period_shift('month', start.replace(day=1), 1)))}",
    }
    return render_page(request, "insights/grades.html", context, partial="results", status=400 if invalid else 200)


def _month_period(start: datetime.date) -> dict:
    first, last = selectors.period_bounds("month", start)
    return {"from": first.isoformat(), "to": last.isoformat()}


KPI_CACHE_KEY = "guanxi:insights:kpis:{user}:{joined}:{kind}:{day}:{owner}:{grade}"


@login_required
def kpis(request):
    """KPIs of one month, quarter or year, for a segment (grade) and an owner (managers choose a rep;
    a rep sees their own book), and the trend of the last 12 such periods."""
    from guanxi.web.dashboard import cached_if_slow

    params, invalid = request.GET, []
    kind = params.get("period") if params.get("period") in selectors.PERIOD_MONTHS else "month"
    try:
        day = _date_param(params.get("on", "").strip(), timezone.localdate())
    except ValueError:
        day, invalid = timezone.localdate(), ["on"]
    try:
        grade = _choice_param(params.get("grade", "").strip(), Grade)
    except ValueError:
        grade, invalid = None, [*invalid, "grade"]
    owners = _owner_choices(request.user)
    if owners is None:
        owner = request.user.pk  # a rep's own book, not the customers others share with them
    else:
        try:
            owner = _int_param(params.get("owner", "").strip(), 1, 2**63 - 1)
        except ValueError:
            owner, invalid = None, [*invalid, "owner"]
    start, end = selectors.period_bounds(kind, day)
    previous_start = selectors.period_shift(kind, start, -1)
    key = KPI_CACHE_KEY.format(user=request.user.pk, joined=request.user.date_joined.timestamp(), kind=kind,
                               day=start.isoformat(), owner=owner, grade=grade)
    figures = cached_if_slow(f"{key}:period", lambda: selectors.kpis(request.user, start=start, end=end, owner=owner, grade=grade,
                                                                  previous_start=previous_start))
    trend = cached_if_slow(f"{key}:trend", lambda: selectors.kpi_trend(request.user, kind=kind, day=day, owner=owner, grade=grade))
    label = _period_label(kind)
    base = reverse("insights:kpis")
    keep = {"period": kind, "grade": grade or "", "owner": owner if owners is not None and owner else ""}
    context = {
        "kind": kind, "start": start, "end": end, "figures": figures, "trend": trend, "invalid": invalid,
        "periods": [("month", _("Month")), ("quarter", _("Quarter")), ("year", _("Year"))],
        "grades": Grade.choices, "grade": grade, "owners": owners, "owner": owner, "period_label": label(start),
        "previous_url": f"{base}?{urlencode(keep | {'on': previous_start.isoformat()})}",
        "next_url": f"{base}?{urlencode(keep | {'on': selectors.period_shift(kind, start, 1).isoformat()})}",
        "detailed": all(p.new_customers is not None for p in trend),
        "chart": {"kind": "kpi", "new_name": _("New buyers"), "returning_name": _("Returning buyers"), "buyers_name": _("Customers buying"),
                  "repurchase_name": _("Repurchase rate %"), "sensitivity_name": _("Bought on discount %"),
                  "rows": [{"label": label(p.start), "buyers": p.customers_buying, "new": p.new_customers, "returning": p.returning_customers,
                            "repurchase": _percent(p.repurchase_rate), "sensitivity": _percent(p.price_sensitivity)}
                           for p in trend]},
    }
    return render_page(request, "insights/kpis.html", context, status=400 if invalid else 200)


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def _period_label(kind: str):
    if kind == "year":
        return lambda d: str(d.year)
    if kind == "quarter":
        return lambda d: f"{d.year} Q{(d.month - 1) // 3 + 1}"
    return lambda d: d.strftime("%Y-%m")


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
    back = request.POST.get("next", "")
    return redirect(back if back.startswith(("/insights/", "/customers/")) else "insights:warnings")


# --- Customer 360 insights, look-alikes, prospects and controlled exports --------------------------------

def _or_404(read, *args, **kwargs):
    """Run a customer read; a customer outside the user's view is a 404, never a 403."""
    from django.http import Http404

    from guanxi.customers.models import Customer

    try:
        return read(*args, **kwargs)
    except Customer.DoesNotExist:
        raise Http404 from None


def _suggestions(request, pk: int) -> dict:
    return {"cross_sell": _or_404(selectors.cross_sell_for_customer, request.user, pk),
            "up_sell": list(_or_404(selectors.up_sell_for_customer, request.user, pk).select_related("category"))}


@login_required
def customer_panel(request, pk: int):
    """The 360 page's insights section, fetched by htmx once the page has loaded (it costs queries the
    page itself should not wait for); without JavaScript, a page of its own."""
    from guanxi.web.htmx import wants_fragment

    insights = _or_404(selectors.customer_insights, request.user, pk)
    lazy = wants_fragment(request)
    context = {"customer": insights.customer, "insights": insights, "lazy": lazy,
               "back": f"/customers/{pk}/" if lazy else request.get_full_path()}
    if not lazy:
        context.update(_suggestions(request, pk))
    return render_page(request, "insights/customer_panel.html", context, partial="panel")


@login_required
def customer_suggestions(request, pk: int):
    """Cross-sell and up-sell for one customer: the purchase matrix is the costly part, so it loads last."""
    return render_page(request, "insights/customer_panel.html#suggestions", {"customer_id": pk, **_suggestions(request, pk)})


def _target_context(request, filters: dict) -> dict:
    import json

    return {"can_export": services.may_export(request.user), "export_filters": json.dumps(filters, ensure_ascii=False, default=str)}


def _limit(request) -> int:
    try:
        return selectors.target_list_limit(request.GET.get("limit"))
    except ValidationError:
        return 100


@login_required
def product_lookalikes(request, pk: int):
    from guanxi.sales.models import Product

    product = get_object_or_404(Product.objects.select_related("category"), pk=pk)
    limit = _limit(request)
    rows = selectors.product_lookalikes(request.user, product.pk, limit=limit)
    context = {"product": product, "rows": rows, "limit": limit, "limits": (50, 100, 200, 500),
               **_target_context(request, {"lookalikes_of": product.pk, "limit": limit})}
    return render_page(request, "insights/lookalikes.html", context)


@login_required
def prospects(request):
    limit = _limit(request)
    rows = selectors.ranked_prospects(request.user, limit=limit)
    context = {"rows": rows, "limit": limit, "limits": (50, 100, 200, 500), **_target_context(request, {"prospects": True, "limit": limit})}
    return render_page(request, "insights/prospects.html", context)


def _posted_filters(request) -> dict:
    import json

    try:
        filters = json.loads(request.POST.get("filters") or "{}")
    except ValueError:
        raise ValidationError(_("The list's filter could not be read.")) from None
    if not isinstance(filters, dict):
        raise ValidationError(_("The list's filter could not be read."))
    return filters


def _back(request):
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/insights/") else "insights:home")


@login_required
@require_POST
def export(request):
    """A controlled export (CSV/XLSX) of the list the form names: recorded, flagged when unusual;
    403 for roles that may not export, and then no file and no record."""
    from django.core.exceptions import PermissionDenied
    from django.http import StreamingHttpResponse

    if not services.may_export(request.user):
        raise PermissionDenied(_("Your role may not export customer lists."))
    try:
        name, content_type, chunks = services.export_customers(user=request.user, filters=_posted_filters(request),
                                                               fmt=request.POST.get("fmt", "csv"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(request)
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def target_campaign(request):
    """"Use as campaign target list": exactly the listed customers become a care segment, the audience of a new
    draft campaign, which then opens for a last look before launch."""
    from django.db import transaction

    from guanxi.care import services as care_services

    post = request.POST
    try:
        filters = _posted_filters(request)
        ids = list(selectors.customers_for_export(request.user, filters).values_list("pk", flat=True)[:selectors.TARGET_LIST_MAX])
        with transaction.atomic():
            segment = care_services.save_segment(actor=request.user, name=post.get("name", ""), filters={"ids": ids})
            campaign = care_services.create_campaign(actor=request.user, name=post.get("name", ""), segment=segment,
                                                     subject=post.get("subject", ""), message=post.get("message", ""),
                                                     channel=post.get("channel", "email"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(request)
    messages.success(request, _("Draft campaign for %(n)d customers saved.") % {"n": len(ids)})
    return redirect("care:campaign", campaign.pk)


@login_required
def exports_log(request):
    page = paginate(selectors.customer_exports(request.user), request.GET.get("page"))  # PermissionDenied → 403
    return render_page(request, "insights/exports.html", {"page": page}, partial="results")


# --- Lost customers and win-back ---------------------------------------------------------------------

AT_RISK_ON_PAGE = 10


def _iso_date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _lost_filters(params) -> tuple[dict, dict]:
    """(filters of the figures: period and owner; filters of the list: those plus reason, status, outcome)."""
    from guanxi.customers.models import LostReason
    from guanxi.insights.models import WinBack

    owner = params.get("owner", "")
    figures = {"start": _iso_date(params.get("start")), "end": _iso_date(params.get("end")),
               "owner": int(owner) if owner.isdigit() and len(owner) < 10 else None}
    reason = params.get("reason")
    listing = {**figures,
               "reason": reason if reason in LostReason.values or reason == "none" else None,
               "status": params.get("status") if params.get("status") in WinBack.Status.values else None,
               "outcome": params.get("outcome") if params.get("outcome") in ("attempted", "won_back", "unprompted") else None}
    if listing["reason"] == "none":
        listing["reason"] = ""
    return figures, listing


def _lost_url(figures: dict, **extra) -> str:
    """The lost list narrowed to the customers a figure counts (period and owner kept)."""
    query = {k: v for k, v in {**figures, **extra}.items() if v not in (None, "")}
    return reverse("insights:lost") + ("?" + urlencode(query) if query else "") + "#lost-list"


def _month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    nxt = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return month, nxt - datetime.timedelta(days=1)


@login_required
def lost_customers(request):
    """Lost customers with their reason and win-back, the reasons breakdown, win-back success, at-risk customers."""
    from guanxi.core.pagination import capped_count
    from guanxi.core.visibility import is_read_only
    from guanxi.customers.models import LostReason
    from guanxi.insights.models import WinBack

    user, params = request.user, request.GET
    figures, listing = _lost_filters(params)
    page = paginate(selectors.winbacks(user, **listing), params.get("page"))
    context = {"page": page, "figures": figures, "listing": listing, "statuses": WinBack.Status.choices,
               "reasons": LostReason.choices, "can_act": not is_read_only(user)}
    if wants_fragment(request):
        return render_page(request, "insights/lost.html", context, partial="results")
    by = params.get("by") if params.get("by") in selectors.WINBACK_GROUPS else "month"
    numbers = selectors.WinBackFigures(user, **figures)
    reasons = numbers.reasons()
    for row in reasons:
        row["url"] = _lost_url(figures, reason=row["reason"] or "none")
        row["won_back_url"] = _lost_url(figures, reason=row["reason"] or "none", status="won_back")
    success = numbers.success(by)
    for row in success:
        narrow = ({"start": _month_bounds(row.key)[0], "end": _month_bounds(row.key)[1]} if by == "month"
                  else {"reason": row.key or "none"} if by == "reason" else {"owner": row.key} if row.key else {})
        scope = {**figures, **narrow}
        row.urls = {name: _lost_url(scope, outcome=name if name != "lost" else None)
                    for name in ("lost", "attempted", "won_back", "unprompted")}
    totals = numbers.total()
    totals.urls = {name: _lost_url(figures, outcome=name if name != "lost" else None)
                   for name in ("lost", "attempted", "won_back", "unprompted")}
    at_risk = selectors.at_risk_customers(user)
    context.update({
        "by": by, "groups": [("month", _("Month lost")), ("reason", _("Reason")), ("owner", _("Owner"))],
        "reason_rows": reasons, "success": success, "totals": totals,
        "reasons_chart": {"kind": "hbar", "series_name": _("Lost customers"),
                          "rows": [{"label": str(r["label"] or _("Not given")), "value": r["lost"]} for r in reasons if r["lost"]]},
        "at_risk": list(at_risk[:AT_RISK_ON_PAGE]), "at_risk_count": capped_count(at_risk),
        "owners": ([] if user.role == Role.SALES and not user.is_superuser else
                   User.objects.filter(is_active=True, role__in=[Role.SALES, Role.MANAGER]).order_by("username")[:200]),
    })
    return render_page(request, "insights/lost.html", context, partial="results")


@login_required
def at_risk(request):
    """Every customer who may be leaving (P(alive) below the churn threshold or an open churn warning)."""
    page = paginate(selectors.at_risk_customers(request.user), request.GET.get("page"))
    return render_page(request, "insights/at_risk.html", {"page": page}, partial="results")


def _back_to_lost(request):
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/insights/lost/") else "insights:lost")


@login_required
@require_POST
def winback_start(request, pk: int):
    winback = get_object_or_404(selectors.visible_winbacks(request.user).select_related("customer", "owner", "lost_change"), pk=pk)
    try:
        services.start_winback(winback=winback, actor=request.user)  # PermissionDenied for read-only roles → 403
        messages.success(request, _("Win-back started: a task is open for %(owner)s.") % {"owner": winback.task.assignee})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back_to_lost(request)


@login_required
def winback_give_up(request, pk: int):
    """GET: the dialog that asks for the note (the confirmation); POST: give up."""
    winback = get_object_or_404(selectors.visible_winbacks(request.user).select_related("customer", "task"), pk=pk)
    error = None
    if request.method == "POST":
        try:
            services.give_up_winback(winback=winback, actor=request.user, note=request.POST.get("note", ""))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Win-back for %(customer)s given up.") % {"customer": winback.customer.name})
            if wants_fragment(request):
                response = render_page(request, "insights/lost_give_up.html", {"winback": winback}, partial="dialog")
                response["HX-Refresh"] = "true"
                return response
            return _back_to_lost(request)
    context = {"winback": winback, "error": error, "note": request.POST.get("note", ""),
               "next": request.GET.get("next") or request.POST.get("next") or reverse("insights:lost")}
    return render_page(request, "insights/lost_give_up.html", context, partial="dialog")  # errors re-render with 200 (htmx swaps it)
