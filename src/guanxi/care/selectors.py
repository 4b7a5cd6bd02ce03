"""Reads of customer care, from the customers the user sees."""

from django.db.models import QuerySet

from guanxi.accounts.models import User
from guanxi.care.models import CareOptOut
from guanxi.core.visibility import visible_related


def campaign_members(user: User, campaign) -> QuerySet:
    """The contacted members of a campaign whose customers `user` sees (the hold-out group is never contacted)."""
    return (visible_related(user, campaign.members.filter(is_holdout=False).select_related("customer"))
            .order_by("pk"))


def care_opt_outs(user: User) -> QuerySet:
    """Customers who asked for no care contact, newest first."""
    return (visible_related(user, CareOptOut.objects.select_related("customer", "recorded_by"))
            .order_by("-created_at", "-pk"))
