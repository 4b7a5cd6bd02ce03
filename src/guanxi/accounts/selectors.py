"""Reads of users and tokens."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from guanxi.accounts.models import ApiToken, User


def user_tokens(user: User) -> QuerySet:
    """The user's own tokens (never anyone else's), newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def own_token(user: User, pk: int) -> ApiToken:
    """One of the user's tokens; another user's token is a 404."""
    return get_object_or_404(user_tokens(user), pk=pk)


def active_users() -> QuerySet:
    return User.objects.filter(is_active=True).select_related("team").order_by("username")
