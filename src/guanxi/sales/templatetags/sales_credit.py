"""The held-order count beside the approval queue's link in the orders subnav (managers only)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def pending_credit_count(context) -> int | None:
    """How many held orders the signed-in manager can decide on; None for everyone else (no link)."""
    from guanxi.sales import selectors, services

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not services.may_approve_credit(user):
        return None
    return selectors.pending_credit_count(user)
