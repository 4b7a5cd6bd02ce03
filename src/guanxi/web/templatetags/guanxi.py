"""UI building blocks every page uses: navigation, form fields, badges, sorting links, money."""

from decimal import Decimal

from django import forms, template
from django.conf import settings
from django.utils.translation import get_language

from guanxi.web.navigation import nav_items

register = template.Library()

LANGUAGE_LABELS = {"zh-hans": "中文", "en": "EN"}


@register.inclusion_tag("web/components/nav.html", takes_context=True)
def main_nav(context):
    return {"items": nav_items(context["request"])}


@register.inclusion_tag("web/components/language_switch.html", takes_context=True)
def language_switch(context):
    request = context["request"]
    return {
        "languages": [(code, LANGUAGE_LABELS.get(code, code)) for code, _name in settings.LANGUAGES],
        "current": get_language(),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("web/components/field.html")
def field(bound_field, wide=False, validate=""):
    """`{% field form.name %}`: label, widget, help text and the field's own errors beside it.

    With `validate=url`, a change re-checks the field on the server (the whole form is sent,
    `_field` names the one to answer for) and the response replaces this field only.
    """
    return {
        "field": bound_field,
        "checkbox": isinstance(bound_field.field.widget, forms.CheckboxInput),
        "wide": wide or isinstance(bound_field.field.widget, forms.Textarea),
        "validate": validate,
    }


@register.simple_tag
def state_badge(customer):
    from django.utils.html import format_html

    return format_html('<span class="badge state-{}">{}</span>', customer.state, customer.get_state_display())


@register.simple_tag(takes_context=True)
def sort_link(context, column, label):
    """A column header that sorts by `column`, toggling the direction, keeping the other filters."""
    from django.utils.html import format_html

    request = context["request"]
    current = context.get("sort", "")
    descending_now = current == f"-{column}"
    ascending_now = current == column
    target = column if descending_now or not ascending_now else f"-{column}"
    params = request.GET.copy()
    params["sort"] = target
    params.pop("page", None)
    url = "?" + params.urlencode()
    if ascending_now or descending_now:
        aria = "ascending" if ascending_now else "descending"
        arrow = "▲" if ascending_now else "▼"
        return format_html(
            '<a href="{}" hx-get="{}" hx-target="#customer-results" hx-push-url="true" aria-sort="{}">{} {}</a>',
            url, url, aria, label, arrow,
        )
    return format_html('<a href="{}" hx-get="{}" hx-target="#customer-results" hx-push-url="true">{}</a>', url, url, label)


@register.filter
def money(value):
    """12345.5 → 12,345.50 (Decimal in, text out; never through float)."""
    if value in (None, ""):
        return ""
    return f"{Decimal(value):,.2f}"


@register.filter
def width_class(percent):
    """A bar width as a class (CSP forbids inline styles): 0–100 → w-0 … w-100 in steps of 10."""
    try:
        p = max(0, min(100, int(round(float(percent) / 10.0) * 10)))
    except (TypeError, ValueError):
        p = 0
    return f"w-{p}"
