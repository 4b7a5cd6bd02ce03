"""Every write to users and API tokens (DESIGN.md house style)."""

import logging

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts import tokens
from guanxi.accounts.models import ApiToken, Department, Role, Team, User

logger = logging.getLogger(__name__)


def create_user(*, actor: User | None, username: str, password: str | None, role: str = Role.SALES,
                team: Team | None = None, department: Department | None = None, email: str = "",
                first_name: str = "", last_name: str = "", language: str = "") -> User:
    """A new colleague with a role; the password is checked by the configured validators."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    user = User(
        username=(username or "").strip(), role=role, team=team, department=department,
        email=(email or "").strip().lower(), first_name=first_name.strip(), last_name=last_name.strip(),
        language=language, is_staff=role == Role.ADMIN,
    )
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    logger.info("user %s created by %s", user.pk, getattr(actor, "pk", None))
    return user


def deactivate_user_and_reassign(*, user: User, to_user: User, actor: User) -> dict[str, int]:
    """Offboarding in one transaction: the leaver's customers, open opportunities and open tasks go to
    `to_user`, their tokens stop working, and every customer's timeline says who moved it.

    Returns how many of each were moved.
    """
    from guanxi.customers.models import Customer, CustomerEvent, CustomerSearch
    from guanxi.engagement.models import Task
    from guanxi.sales.models import Opportunity

    if to_user.pk == user.pk:
        raise ValidationError({"to_user": _("Choose someone other than the person leaving.")})
    if not to_user.is_active:
        raise ValidationError({"to_user": _("The new owner is not an active user.")})
    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        customer_ids = list(Customer.objects.select_for_update().filter(owner=user).values_list("pk", flat=True))
        moved = Customer.objects.filter(pk__in=customer_ids).update(
            owner=to_user, team=to_user.team, version=F("version") + 1, updated_at=now
        )
        CustomerSearch.objects.filter(customer_id__in=customer_ids).update(owner_id=to_user.pk, team_id=to_user.team_id)
        summary = _("Owner: %(owner)s (offboarding %(leaver)s)") % {"owner": to_user, "leaver": user}
        CustomerEvent.objects.bulk_create(
            [CustomerEvent(customer_id=pk, verb="reassigned", summary=summary[:500], actor=actor, occurred_at=now) for pk in customer_ids],
            batch_size=5000,
        )
        opportunities = Opportunity.objects.filter(owner=user, closed_at__isnull=True).update(owner=to_user, updated_at=now)
        tasks = Task.objects.filter(assignee=user, status=Task.Status.OPEN).update(assignee=to_user, updated_at=now)
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now, updated_at=now)
    user.refresh_from_db()
    logger.info("user %s offboarded by %s: %d customers, %d opportunities, %d tasks to user %s",
                user.pk, actor.pk, moved, opportunities, tasks, to_user.pk)
    return {"customers": moved, "opportunities": opportunities, "tasks": tasks, "tokens_revoked": revoked}


def create_api_token(*, user: User, name: str = "", actor: User) -> tuple[ApiToken, str]:
    """A new token for `user`; the raw secret is returned once and only its SHA-256 is kept."""
    if actor.pk != user.pk and not actor.is_admin_role:
        raise ValidationError({"user": _("You can only create tokens for yourself.")})
    if not user.is_active:
        raise ValidationError({"user": _("This user is not active.")})
    name = (name or "").strip()
    if "\x00" in name or len(name) > 100:
        raise ValidationError({"name": _("Use at most 100 characters.")})
    with transaction.atomic():
        token, raw = tokens.create_token(user=user, name=name)
    logger.info("token %s created for user %s by %s", token.pk, user.pk, actor.pk)
    return token, raw


def revoke_api_token(*, token: ApiToken, actor: User) -> ApiToken:
    """The token stops authenticating at once; the row stays for the record."""
    if actor.pk != token.user_id and not actor.is_admin_role:
        raise ValidationError({"token": _("You can only revoke your own tokens.")})
    with transaction.atomic():
        tokens.revoke_token(token=token)
    logger.info("token %s revoked by %s", token.pk, actor.pk)
    return token
