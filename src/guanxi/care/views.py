"""Care and campaign pages, and the public campaign link. Thin: parse with a form, call one service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.care import selectors, services
from guanxi.care.forms import CampaignForm, CareRuleForm, IncidentForm, OptOutForm
from guanxi.care.models import Campaign, CareRule, IncidentNotice
from guanxi.core.visibility import visible_customers
from guanxi.web.paging import paginate


def campaign_link(request, token):
    member = services.record_link_opened(token=token)
    target = member.campaign.link_url if member is not None else "/contact/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/contact/"
    return redirect(target)


def _service_errors(form, error: ValidationError) -> None:
    for key, msgs in error.message_dict.items():
        form.add_error(key if key in form.fields else None, msgs)


def _form_page(request, form, title, submit, status=200):
    return render(request, "care/form.html", {"form": form, "title": title, "submit": submit}, status=status)


@login_required
def care_home(request):
    rules = CareRule.objects.annotate(fired=Count("firings")).order_by("name")
    notices = IncidentNotice.objects.select_related("product").annotate(reached=Count("recipients"))[:20]
    return render(request, "care/home.html", {"rules": rules, "notices": notices})


@login_required
@require_http_methods(["GET", "POST"])
def rule_create(request):
    form = CareRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_care_rule(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Care rule saved; it applies from tomorrow's run."))
            return redirect("care:home")
    return _form_page(request, form, _("New care rule"), _("Save rule"), 422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def incident_create(request):
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            notice = services.send_incident_notice(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Notice sent to %(n)d buyers.") % {"n": notice.recipients.count()})
            return redirect("care:home")
    return _form_page(request, form, _("Incident notice to buyers"), _("Send notice"), 422 if form.errors else 200)


def _visible_customer(user, raw):
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return visible_customers(user).only("pk", "name").filter(pk=pk).first()


@login_required
@require_http_methods(["GET", "POST"])
def opt_outs(request):
    """Customers who want no greetings or courtesy visits: record one, or take one back in."""
    form = OptOutForm(request.POST or None)
    picked = _visible_customer(request.user, request.POST.get("customer")) if request.method == "POST" else None
    if request.method == "POST" and form.is_valid():
        if picked is None:
            form.add_error("customer", _("Choose a customer."))
        else:
            try:
                services.opt_out_of_care(customer=picked, actor=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                _service_errors(form, error)
            except PermissionDenied:
                form.add_error(None, _("You may not change this customer."))
            else:
                messages.success(request, _("%(name)s will not be contacted by care rules.") % {"name": picked.name})
                return redirect("care:opt_outs")
    page = paginate(selectors.care_opt_outs(request.user), request.GET.get("page"))
    return render(request, "care/opt_outs.html", {"form": form, "picked": picked, "page": page},
                  status=422 if form.errors else 200)


@login_required
@require_POST
def opt_back_in(request, customer_id):
    customer = _visible_customer(request.user, customer_id)
    if customer is None:
        raise Http404
    try:
        services.opt_back_in(customer=customer, actor=request.user)
    except PermissionDenied:
        messages.error(request, _("You may not change this customer."))
    else:
        messages.success(request, _("%(name)s is back on the care rules.") % {"name": customer.name})
    return redirect("care:opt_outs")


@login_required
def campaign_list(request):
    campaigns = Campaign.objects.select_related("segment").annotate(
        contacted=Count("members", filter=Q(members__is_holdout=False)),
        bought=Count("members", filter=Q(members__is_holdout=False, members__purchased_at__isnull=False)))
    return render(request, "care/campaigns.html", {"campaigns": campaigns})


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        filters = {key: data.pop(key) for key in ("state", "province", "customer_type", "tag", "grade", "value_segment")}
        try:
            segment = services.save_segment(actor=request.user, name=data["name"], filters={k: v for k, v in filters.items() if v})
            campaign = services.create_campaign(actor=request.user, segment=segment, **data)
        except ValidationError as error:
            _service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            return redirect("care:campaign", campaign.pk)
    return _form_page(request, form, _("New campaign"), _("Save campaign"), 422 if form.errors else 200)


@login_required
def campaign_detail(request, pk):
    campaign = get_object_or_404(Campaign.objects.select_related("segment"), pk=pk)
    members = paginate(selectors.campaign_members(request.user, campaign), request.GET.get("page"))
    return render(request, "care/campaign.html", {"campaign": campaign, "results": services.campaign_results(campaign=campaign),
                                                  "members": members})


@login_required
@require_POST
def campaign_reply(request, pk, customer_id):
    """The customer answered the campaign (phone, WeChat, a visit): counted as a response."""
    campaign = get_object_or_404(Campaign, pk=pk)
    member = selectors.campaign_members(request.user, campaign).filter(customer_id=customer_id).first()
    if member is None:
        raise Http404
    try:
        services.record_reply(member=member, actor=request.user)
    except PermissionDenied:
        messages.error(request, _("You may not change this customer."))
    else:
        messages.success(request, _("Reply from %(name)s recorded.") % {"name": member.customer.name})
    return redirect("care:campaign", pk)


@login_required
@require_POST
def campaign_launch(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        services.launch_campaign(campaign=campaign, actor=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, _("Campaign launched."))
    return redirect("care:campaign", pk)
