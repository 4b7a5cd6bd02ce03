"""Sales screens: the pipeline kanban, products, orders with lines and payments, receivables.

Thin edges: parse the request, call one selector or service, render. Reads start from
visible_customers(user) through sales.selectors, so an invisible order or opportunity is a 404.
"""

import datetime
import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, DecimalField, ExpressionWrapper, F, Q, Sum, When, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.accounts.models import Role, Team, User
from guanxi.core.locking import StaleVersion
from guanxi.core.visibility import is_read_only, visible_customers
from guanxi.customers.forms import DateInput
from guanxi.customers.search import search_customers
from guanxi.sales import selectors, services
from guanxi.sales.models import Opportunity, Order, Payment, PipelineStage, ProductCategory
from guanxi.core.pagination import COUNT_CAP
from guanxi.web.dashboard import cached_if_slow, customers_over_credit_limit, pipeline_sums
from guanxi.web.htmx import render_page, wants_fragment
from guanxi.web.paging import PAGE_SIZE, Page, page_number, paginate

CARDS_PER_STAGE = 50  # a column shows the next deals to close; the total still counts them all
PICKER_LIMIT = 20
PRODUCT_CHOICES_LIMIT = 1000
FILTER_USER_LIMIT = 500
MONEY = DecimalField(max_digits=20, decimal_places=2)


# The default stages (sales migration 0002) in the catalogue, with a context: "Lost" as a
# stage is a lost deal (输单), not a lost customer (流失客户).
DEFAULT_STAGE_NAMES = (
    pgettext_lazy("pipeline stage", "Lead"), pgettext_lazy("pipeline stage", "Qualified"),
    pgettext_lazy("pipeline stage", "Proposal"), pgettext_lazy("pipeline stage", "Negotiation"),
    pgettext_lazy("pipeline stage", "Won"), pgettext_lazy("pipeline stage", "Lost"),
)


def stage_label(stage: PipelineStage) -> str:
    """A stage's name in the user's language (names an administrator typed stay as typed)."""
    return pgettext("pipeline stage", stage.name)


def _int_or_none(raw):
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _date_or_none(raw):
    try:
        return datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _owner_choices():
    return User.objects.filter(is_active=True).exclude(role=Role.ANALYST).order_by("username").only(
        "pk", "username", "first_name", "last_name")[:FILTER_USER_LIMIT]


def _service_errors(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [m for msgs in error.message_dict.values() for m in msgs]
    return list(error.messages)


# --- Customer picker (order entry, tasks, interactions) -------------------------------------

@login_required
@require_GET
def customer_options(request):
    """`<option>`s of the visible customers matching `customer_q`, for a search-then-pick field."""
    q = request.GET.get("customer_q", "").strip()[:100]
    customers = list(search_customers(request.user, q).only("pk", "name").order_by("name")[:PICKER_LIMIT]) if q else []
    return render(request, "sales/customer_options.html", {"customers": customers, "q": q})


# --- Pipeline ------------------------------------------------------------------------------

def _pipeline_filters(request):
    params = request.GET if request.method == "GET" else request.POST
    return {"owner": _int_or_none(params.get("owner")), "team": _int_or_none(params.get("team"))}


def _board(user, *, owner: int | None, team: int | None) -> list[dict]:
    """Every stage with its count, total and weighted amount, and its next deals to close (4 queries)."""
    stages = list(selectors.pipeline_stages())
    deals = selectors.opportunities_for(user, owner=owner, is_open=True)
    if team is not None:
        deals = deals.filter(owner__team_id=team)
    totals = pipeline_sums(deals)
    # Rank on a narrow projection (id, stage, date), then load only the cards shown: ranking the
    # joined rows costs 4× more on a firm-wide board (bench/workspaces.py).
    shown_ids = list(
        deals.select_related(None).order_by()
        .annotate(rank=Window(RowNumber(), partition_by=[F("stage_id")], order_by=[F("expected_close").asc(nulls_last=True), F("id").desc()]))
        .filter(rank__lte=CARDS_PER_STAGE).values_list("pk", flat=True)
    )
    cards: dict[int, list] = {}
    # The ids come from the visible deals; filtering them by visibility again costs a second scan.
    loaded = Opportunity.objects.select_related("stage", "customer", "owner").filter(pk__in=shown_ids)
    for deal in sorted(loaded, key=lambda d: (d.expected_close is None, d.expected_close or datetime.date.min, -d.pk)):
        cards.setdefault(deal.stage_id, []).append(deal)
    columns = []
    for stage in stages:
        row = totals.get(stage.pk, {})
        shown = cards.get(stage.pk, [])
        columns.append({
            "stage": stage, "deals": shown, "count": row.get("n", 0), "more": row.get("n", 0) - len(shown),
            "total": row.get("total") or 0, "weighted": row.get("weighted") or 0,
        })
    return columns


def _board_context(request, filters) -> dict:
    query = urlencode({k: v for k, v in filters.items() if v is not None})
    return {
        "columns": _board(request.user, **filters),
        "stages": list(selectors.pipeline_stages()),
        "filters": filters,
        "filter_query": query,
        "can_move": not is_read_only(request.user),
    }


@login_required
def pipeline(request):
    """The kanban; htmx filter changes get the board alone."""
    filters = _pipeline_filters(request)
    context = _board_context(request, filters)
    if not wants_fragment(request):
        context["owners"] = _owner_choices()
        context["teams"] = Team.objects.order_by("name")
    return render_page(request, "sales/pipeline.html", context, partial="board")


def _board_response(request, filters, *, moved: int, message: str, status=200):
    """The board again, and an event for pipeline.js: announce `message`, keep focus on the moved card."""
    response = render(request, "sales/pipeline.html#board", _board_context(request, filters), status=status)
    response["HX-Trigger"] = json.dumps({"closeModal": True, "pipelineMoved": {"message": message, "deal": moved, "ok": status == 200}})
    return response


@login_required
@require_http_methods(["GET", "POST"])
def move_opportunity(request, pk):
    """Move a deal to a stage (drag, or the card's stage menu); a lost deal first asks why."""
    try:
        deal = selectors.get_opportunity(request.user, pk)
    except Opportunity.DoesNotExist:
        raise Http404 from None
    filters = _pipeline_filters(request)
    params = request.POST if request.method == "POST" else request.GET
    stage = PipelineStage.objects.filter(pk=_int_or_none(params.get("stage"))).first()
    version = _int_or_none(params.get("version"))
    if stage is None or version is None:
        return _move_refused(request, filters, deal, _("Choose a stage to move the opportunity to."), status=422)
    reason = params.get("lost_reason", "")
    if stage.is_lost and (request.method == "GET" or not reason.strip()):
        return _lost_reason_dialog(request, deal, stage, version, filters, error=request.method == "POST" and "lost_reason" in params)
    if request.method == "GET":
        return redirect(reverse("sales:pipeline") + ("?" + urlencode(filters) if any(filters.values()) else ""))
    try:
        services.move_opportunity(opportunity=deal, to_stage=stage, actor=request.user, expected_version=version, lost_reason=reason)
    except StaleVersion as stale:
        current = stale.current
        message = _("Someone else changed “%(title)s” first; it is now in %(stage)s. Check it and move it again.") % {
            "title": current.title, "stage": stage_label(current.stage)}
        return _move_refused(request, filters, current, message, status=409)
    except ValidationError as error:
        return _move_refused(request, filters, deal, " ".join(_service_errors(error)), status=422)
    except PermissionDenied:
        return _move_refused(request, filters, deal, _("You may not change this opportunity."), status=403)
    message = _("Moved “%(title)s” to %(stage)s.") % {"title": deal.title, "stage": stage_label(stage)}
    if request.htmx:
        return _board_response(request, filters, moved=deal.pk, message=message)
    messages.success(request, message)
    return redirect(reverse("sales:pipeline") + ("?" + urlencode({k: v for k, v in filters.items() if v}) if any(filters.values()) else ""))


def _move_refused(request, filters, deal, message, *, status):
    if request.htmx:
        response = _board_response(request, filters, moved=deal.pk, message=message, status=status)
        response["HX-Retarget"] = "#board"
        response["HX-Reswap"] = "innerHTML"
        return response
    messages.error(request, message)
    return redirect("sales:pipeline")


def _lost_reason_dialog(request, deal, stage, version, filters, *, error: bool):
    context = {"deal": deal, "stage": stage, "version": version, "filters": filters, "error": error,
               "action_url": reverse("sales:move", args=[deal.pk]) + ("?" + urlencode({k: v for k, v in filters.items() if v}) if any(filters.values()) else "")}
    response = render_page(request, "sales/lost_reason.html", context, partial="dialog")
    if request.htmx:
        response["HX-Retarget"] = "#modal-body"
        response["HX-Reswap"] = "innerHTML"
    return response


# --- Products --------------------------------------------------------------------------------

@login_required
def product_list(request):
    params = request.GET
    active = {"yes": True, "no": False}.get(params.get("active", "yes"))
    filters = {"search": params.get("q", "").strip()[:100] or None, "category": _int_or_none(params.get("category")), "active": active}
    page = paginate(selectors.products(**filters).order_by("name", "pk"), params.get("page"))
    context = {"page": page, "filters": filters, "active": params.get("active", "yes"), "q": filters["search"] or "",
               "filtered": bool(filters["search"] or filters["category"])}
    if not wants_fragment(request):
        context["categories"] = ProductCategory.objects.order_by("name")[:500]
    return render_page(request, "sales/products.html", context, partial="results")


# --- Orders ----------------------------------------------------------------------------------

@login_required
def order_list(request):
    params = request.GET
    status = params.get("status") if params.get("status") in Order.Status.values else None
    filters = {"status": status, "date_from": _date_or_none(params.get("from")), "date_to": _date_or_none(params.get("to")),
               "customer": _int_or_none(params.get("customer"))}
    orders = selectors.orders_for(request.user, **filters)
    q = params.get("q", "").strip()[:100]
    if q:
        orders = orders.filter(Q(number__icontains=q) | Q(customer__name__icontains=q))
    page = paginate(orders.order_by("-order_date", "-id"), params.get("page"))
    context = {"page": page, "filters": filters, "q": q, "statuses": Order.Status.choices,
               "filtered": bool(q or any(v is not None for v in filters.values())),
               "date_from": params.get("from", ""), "date_to": params.get("to", ""), "can_edit": not is_read_only(request.user)}
    return render_page(request, "sales/orders.html", context, partial="results")


class OrderForm(forms.Form):
    customer = forms.IntegerField(label=gettext_lazy("Customer"), widget=forms.Select,
                                  error_messages={"required": gettext_lazy("Choose a customer.")})
    order_date = forms.DateField(label=gettext_lazy("Order date"), required=False, widget=DateInput())
    promised_delivery = forms.DateField(label=gettext_lazy("Promised delivery"), required=False, widget=DateInput())
    status = forms.ChoiceField(label=gettext_lazy("Status"), initial=Order.Status.CONFIRMED,
                               choices=[(Order.Status.CONFIRMED, Order.Status.CONFIRMED.label), (Order.Status.DRAFT, Order.Status.DRAFT.label)])
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 2}))


def _order_products():
    return list(selectors.products(active=True).select_related(None).order_by("name").only("pk", "sku", "name", "list_price", "currency")[:PRODUCT_CHOICES_LIMIT])


def _posted_lines(post) -> list[dict]:
    """The line rows as typed (strings kept for redisplay); rows left entirely blank are dropped."""
    rows = []
    batches = post.getlist("batch")
    for index, (product, quantity, price) in enumerate(zip(post.getlist("product"), post.getlist("quantity"), post.getlist("unit_price"), strict=False)):
        batch = batches[index].strip() if index < len(batches) else ""
        if not (product or price.strip() or batch) and quantity.strip() in ("", "1"):
            continue
        rows.append({"product": product, "quantity": quantity.strip(), "unit_price": price.strip(), "batch": batch, "errors": []})
    return rows


def _line_errors(rows, error: ValidationError) -> list[str]:
    """Put `lines.<i>.<field>` errors on their row; return the rest for the top of the form."""
    general = []
    for key, msgs in error.message_dict.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
            rows[int(parts[1])]["errors"].extend(msgs)
        elif key in OrderForm.base_fields:
            continue
        else:
            general.extend(msgs)
    return general


def _order_form_page(request, form, rows, *, customer=None, general=(), status=200):
    context = {"form": form, "rows": rows or [{"product": "", "quantity": "1", "unit_price": "", "batch": "", "errors": []}],
               "products": _order_products(), "picked": customer, "general_errors": list(general),
               "credit": _credit_panel(customer)}
    return render(request, "sales/order_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def order_create(request):
    if is_read_only(request.user):
        raise PermissionDenied
    if request.method == "GET":
        picked = None
        pk = _int_or_none(request.GET.get("customer"))
        if pk is not None:
            picked = visible_customers(request.user).only("pk", "name").filter(pk=pk).first()
        form = OrderForm(initial={"customer": picked.pk if picked else None, "order_date": timezone.localdate()})
        return _order_form_page(request, form, [], customer=picked)
    form = OrderForm(request.POST)
    rows = _posted_lines(request.POST)
    valid = form.is_valid()
    customer = None
    if valid:
        customer = visible_customers(request.user).filter(pk=form.cleaned_data["customer"]).first()
        if customer is None:
            form.add_error("customer", _("Choose a customer."))
            valid = False
    if not rows:
        return _order_form_page(request, form, rows, customer=customer, general=[_("An order needs at least one line.")], status=422)
    lines = []
    for index, row in enumerate(rows):
        product = _int_or_none(row["product"])
        if product is None:
            row["errors"].append(_("Choose a product."))
        lines.append({"product": product or 0, "quantity": row["quantity"] or "1", "unit_price": row["unit_price"] or None,
                      "batch": row["batch"]})
    if not valid or any(row["errors"] for row in rows):
        return _order_form_page(request, form, rows, customer=customer, status=422)
    data = form.cleaned_data
    try:
        order = services.create_order(customer=customer, lines=lines, actor=request.user, order_date=data["order_date"],
                                      promised_delivery=data["promised_delivery"], status=data["status"], notes=data["notes"])
    except ValidationError as error:
        general = _line_errors(rows, error)
        for key, msgs in error.message_dict.items():
            if key in form.fields:
                form.add_error(key, msgs)
        return _order_form_page(request, form, rows, customer=customer, general=general, status=422)
    if order.status == Order.Status.CREDIT_HOLD:
        messages.warning(request, _("Order %(number)s placed: %(total)s. It waits for a manager's credit approval.")
                         % {"number": order.number, "total": f"{order.total:,.2f}"})
    else:
        messages.success(request, _("Order %(number)s placed: %(total)s.") % {"number": order.number, "total": f"{order.total:,.2f}"})
    return redirect("sales:order", pk=order.pk)


@login_required
@require_GET
def order_line(request):
    """One line row: a new empty one (Add line), or the row again after its product changed (price defaults)."""
    if request.GET.get("remove"):
        return HttpResponse("")
    products = _order_products()
    pk = _int_or_none(request.GET.get("product"))
    price = ""
    if pk is not None:
        chosen = next((p for p in products if p.pk == pk), None)
        price = f"{chosen.list_price}" if chosen else ""
    row = {"product": str(pk or ""), "quantity": request.GET.get("quantity", "1") or "1", "unit_price": price,
           "batch": request.GET.get("batch", "")[:40], "errors": []}
    return render(request, "sales/order_form.html#line", {"row": row, "products": products})


def _order_or_404(user, pk) -> Order:
    try:
        return selectors.get_order(user, pk)
    except Order.DoesNotExist:
        raise Http404 from None


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=gettext_lazy("Amount"), max_digits=14, decimal_places=2, min_value=0)
    paid_on = forms.DateField(label=gettext_lazy("Paid on"), required=False, widget=DateInput())
    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=Payment.Method.choices, initial=Payment.Method.BANK_TRANSFER)
    reference = forms.CharField(label=gettext_lazy("Reference"), required=False, max_length=100)


def _order_page(request, order, *, payment_form=None, status=200):
    held = order.status == Order.Status.CREDIT_HOLD
    context = {
        "order": order,
        "approval": order.credit_approval if held and hasattr(order, "credit_approval") else None,
        "can_approve": held and services.may_approve_credit(request.user),
        "lines": list(order.lines.all()),
        "payments": list(selectors.payments_for(request.user, order=order.pk).select_related("recorded_by")[:100]),
        "payment_form": payment_form or PaymentForm(initial={"amount": order.balance if order.balance > 0 else None, "paid_on": timezone.localdate()}),
        "can_edit": not is_read_only(request.user),
    }
    return render_page(request, "sales/order_detail.html", context, status=status)


@login_required
def order_detail(request, pk):
    return _order_page(request, _order_or_404(request.user, pk))


@login_required
@require_POST
def record_payment(request, pk):
    order = _order_or_404(request.user, pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            services.record_payment(customer=order.customer, order=order, actor=request.user, amount=form.cleaned_data["amount"],
                                    paid_on=form.cleaned_data["paid_on"], method=form.cleaned_data["method"],
                                    reference=form.cleaned_data["reference"])
        except ValidationError as error:
            for key, msgs in error.message_dict.items():
                form.add_error(key if key in form.fields else None, msgs)
        except PermissionDenied:
            form.add_error(None, _("You may not change this customer."))
        else:
            messages.success(request, _("Payment of %(amount)s recorded.") % {"amount": f"{form.cleaned_data['amount']:,.2f}"})
            return redirect("sales:order", pk=order.pk)
    return _order_page(request, _order_or_404(request.user, pk), payment_form=form, status=422)


def _order_action(request, pk, action, done_message):
    order = _order_or_404(request.user, pk)
    version = _int_or_none(request.POST.get("version"))
    try:
        action(order=order, actor=request.user, expected_version=version if version is not None else -1)
    except StaleVersion:
        messages.error(request, _("Someone else changed this order first; here it is as it is now."))
    except ValidationError as error:
        messages.error(request, " ".join(_service_errors(error)))
    else:
        messages.success(request, done_message % {"number": order.number})
    return redirect("sales:order", pk=order.pk)


def _next_url(request, order) -> str:
    """Back to the approval queue when the decision was taken there, else to the order."""
    queue = reverse("sales:credit_approvals")
    return queue if request.POST.get("next") == queue else reverse("sales:order", args=[order.pk])


@login_required
@require_POST
def approve_credit(request, pk):
    order = _order_or_404(request.user, pk)
    version = _int_or_none(request.POST.get("version"))
    try:
        services.approve_credit(order=order, actor=request.user, expected_version=version if version is not None else -1,
                                note=request.POST.get("note", ""))
    except StaleVersion:
        messages.error(request, _("Someone else changed this order first; here it is as it is now."))
        return redirect("sales:order", pk=order.pk)
    except ValidationError as error:
        messages.error(request, " ".join(_service_errors(error)))
        return redirect("sales:order", pk=order.pk)
    messages.success(request, _("Credit approved: order %(number)s is confirmed.") % {"number": order.number})
    return redirect(_next_url(request, order))


@login_required
@require_http_methods(["GET", "POST"])
def reject_credit(request, pk):
    """GET: the confirmation dialog asking for the reason; POST: refuse the credit (the order is cancelled)."""
    order = _order_or_404(request.user, pk)
    if not services.may_approve_credit(request.user):
        raise PermissionDenied
    error, status = "", 200
    if request.method == "POST":
        version = _int_or_none(request.POST.get("version"))
        try:
            services.reject_credit(order=order, actor=request.user, expected_version=version if version is not None else -1,
                                   reason=request.POST.get("reason", ""))
        except StaleVersion:
            messages.error(request, _("Someone else changed this order first; here it is as it is now."))
            return redirect("sales:order", pk=order.pk)
        except ValidationError as exc:
            if order.status != Order.Status.CREDIT_HOLD:
                messages.error(request, " ".join(_service_errors(exc)))
                return redirect("sales:order", pk=order.pk)
            error, status = " ".join(_service_errors(exc)), 422
        else:
            messages.success(request, _("Credit refused: order %(number)s is cancelled.") % {"number": order.number})
            return redirect(_next_url(request, order))
    context = {"order": order, "error": error, "next": request.GET.get("next") or request.POST.get("next", "")}
    return render_page(request, "sales/reject_credit.html", context, partial="dialog", status=status)


@login_required
def credit_approvals(request):
    """Held orders awaiting a manager's credit decision, oldest first, with receivable, limit and total."""
    page = paginate(selectors.pending_credit_approvals(request.user), request.GET.get("page"))
    standings = selectors.credit_standings([a.customer_id for a in page.rows])
    for approval in page.rows:
        approval.standing = standings[approval.customer_id]
        limit = approval.customer.credit_limit
        approval.goes_over = limit > 0 and approval.current_receivable + approval.order_total > limit
    context = {"page": page, "can_approve": services.may_approve_credit(request.user)}
    return render_page(request, "sales/credit_approvals.html", context, partial="results")


@login_required
@require_GET
def order_credit(request):
    """The credit panel of the order form for the picked customer: what it owes, the limit, and
    whether an order will wait for approval (shown before the rep submits)."""
    pk = _int_or_none(request.GET.get("customer"))
    customer = visible_customers(request.user).only("pk", "name", "credit_limit", "currency").filter(pk=pk).first() if pk else None
    return render(request, "sales/order_form.html#credit", {"credit": _credit_panel(customer)})


def _credit_panel(customer) -> dict | None:
    if customer is None:
        return None
    from guanxi.insights.early_warnings import receivables_by_customer

    receivable = receivables_by_customer(type(customer).objects.filter(pk=customer.pk)).values_list("receivable", flat=True).get()
    return {"customer": customer, "receivable": receivable, "standing": selectors.credit_standing(customer.pk),
            "available": max(customer.credit_limit - receivable, 0) if customer.credit_limit > 0 else None}


def _customer_for_credit(request, pk):
    customer = visible_customers(request.user).filter(pk=pk).first()
    if customer is None:
        raise Http404
    if not services.may_approve_credit(request.user):
        raise PermissionDenied
    return customer


@login_required
@require_http_methods(["GET", "POST"])
def lift_freeze(request, pk):
    """A manager lifts a customer's credit freeze, with a note (GET: the dialog)."""
    customer = _customer_for_credit(request, pk)
    error, status = "", 200
    if request.method == "POST":
        try:
            services.lift_credit_freeze(customer=customer, actor=request.user, note=request.POST.get("note", ""))
        except ValidationError as exc:
            error, status = " ".join(_service_errors(exc)), 422
        else:
            messages.success(request, _("Credit freeze lifted."))
            return redirect("customers:detail", pk=customer.pk)
    context = {"customer": customer, "error": error, "action": "lift", "action_url": reverse("sales:lift_freeze", args=[customer.pk])}
    return render_page(request, "sales/credit_note.html", context, partial="dialog", status=status)


@login_required
@require_http_methods(["GET", "POST"])
def close_case(request, pk):
    """A manager closes the customer's open collection case, with a note (GET: the dialog)."""
    customer = _customer_for_credit(request, pk)
    case = selectors.open_collection_cases(request.user).filter(customer_id=customer.pk).first()
    if case is None:
        messages.error(request, _("There is no open collection case."))
        return redirect("customers:detail", pk=customer.pk)
    error, status = "", 200
    if request.method == "POST":
        try:
            services.close_collection_case(case=case, actor=request.user, note=request.POST.get("note", ""))
        except ValidationError as exc:
            error, status = " ".join(_service_errors(exc)), 422
        else:
            messages.success(request, _("Collection case closed."))
            return redirect("customers:detail", pk=customer.pk)
    context = {"customer": customer, "case": case, "error": error, "action": "close", "action_url": reverse("sales:close_case", args=[customer.pk])}
    return render_page(request, "sales/credit_note.html", context, partial="dialog", status=status)


@login_required
@require_POST
def deliver_order(request, pk):
    return _order_action(request, pk, services.deliver_order, _("Order %(number)s delivered."))


@login_required
@require_POST
def cancel_order(request, pk):
    return _order_action(request, pk, services.cancel_order, _("Order %(number)s cancelled."))


# --- Receivables -----------------------------------------------------------------------------

AGING = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))
COLLECTION_CASES_SHOWN = 20


def _aging_bucket(days: int) -> str:
    for name, low, high in AGING:
        if days >= low and (high is None or days <= high):
            return name
    return AGING[0][0]


def _receivables_summary(user, today) -> dict:
    """Overdue balance per age bucket, the number of overdue orders and who is over their limit.

    One pass over the overdue orders plus one over customers with a limit; both scan a lot in a
    firm-wide view, so the summary is cached for a minute when it was slow to compute.
    """
    overdue = selectors.overdue_orders(user, today=today).order_by()
    balance = ExpressionWrapper(F("total") - F("amount_paid"), output_field=MONEY)
    sums = {}
    for name, low, high in AGING:
        condition = Q(due_date__lte=today - datetime.timedelta(days=low))
        if high is not None:
            condition &= Q(due_date__gte=today - datetime.timedelta(days=high))
        sums[name] = Sum(Case(When(condition, then=balance), default=0, output_field=MONEY))
    totals = overdue.aggregate(n=Count("pk"), **sums)
    return {
        "count": totals["n"],
        "aging": [(name, (totals[name] or 0)) for name, _low, _high in AGING],
        "over_limit": list(customers_over_credit_limit(user)[:50]),
    }


@login_required
def receivables(request):
    """Overdue orders with their age (days past due), the totals per age bucket, and customers over their limit."""
    today = timezone.localdate()
    summary = cached_if_slow(f"guanxi:receivables:{request.user.pk}:{today.isoformat()}",
                             lambda: _receivables_summary(request.user, today))
    count = min(summary["count"], COUNT_CAP)
    number = min(page_number(request.GET.get("page")), max(1, -(-count // PAGE_SIZE)))
    offset = (number - 1) * PAGE_SIZE
    rows = list(selectors.overdue_orders(request.user, today=today)[offset: offset + PAGE_SIZE])
    cases = list(selectors.open_collection_cases(request.user).order_by("-updated_at", "-pk")[:COLLECTION_CASES_SHOWN])
    standings = selectors.credit_standings([o.customer_id for o in rows] + [c.customer_id for c in cases])
    for order in rows:
        order.days_overdue = (today - order.due_date).days
        order.bucket = _aging_bucket(order.days_overdue)
        order.standing = standings[order.customer_id]
    for case in cases:
        case.standing = standings[case.customer_id]
    page = Page(rows=rows, number=number, count=count, capped=summary["count"] > COUNT_CAP, page_size=PAGE_SIZE)
    context = {"page": page, "aging": summary["aging"], "over_limit": summary["over_limit"], "cases": cases}
    return render_page(request, "sales/receivables.html", context, partial="results")
