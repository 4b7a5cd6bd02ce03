"""`guanxi token create USERNAME [--name N]`, `guanxi token revoke PREFIX`, `guanxi token list [USERNAME]`.

The secret is printed once by `create` and never stored (only its SHA-256); `list` shows prefixes.
Whoever runs the CLI has the server's shell, so they act as the token's owner.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from guanxi.accounts import services
from guanxi.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = _("Create, revoke or list API tokens.")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help=_("Create a token for a user and print it once."))
        create.add_argument("username")
        create.add_argument("--name", default="cli", help=_("A label to tell tokens apart."))
        revoke = actions.add_parser("revoke", help=_("Revoke the token whose prefix is given."))
        revoke.add_argument("prefix")
        listing = actions.add_parser("list", help=_("List tokens (of one user, or all)."))
        listing.add_argument("username", nargs="?")

    def handle(self, *args, action, **options):
        return getattr(self, f"_{action}")(**options)

    def _user(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(_("No user named “%(username)s”.") % {"username": username}) from None

    def _create(self, username, name, **options):
        user = self._user(username)
        try:
            _token, raw = services.create_api_token(user=user, name=name, actor=user)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        if options["verbosity"] > 0:
            self.stderr.write(_("Token for %(username)s (shown only now; store it safely):") % {"username": username})
        self.stdout.write(raw)

    def _revoke(self, prefix, **options):
        matches = list(ApiToken.objects.filter(prefix__startswith=prefix[:12], revoked_at__isnull=True)[:2])
        if len(prefix) < 4 or not matches:
            raise CommandError(_("No active token starts with “%(prefix)s”.") % {"prefix": prefix})
        if len(matches) > 1:
            raise CommandError(_("More than one token starts with “%(prefix)s”; give more characters.") % {"prefix": prefix})
        token = matches[0]
        services.revoke_api_token(token=token, actor=token.user)
        self.stdout.write(_("Revoked %(prefix)s… of %(username)s.") % {"prefix": token.prefix, "username": token.user.username})

    def _list(self, username=None, **options):
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
        if username:
            tokens = tokens.filter(user=self._user(username))
        table = Table()
        for column in (_("prefix"), _("user"), _("name"), _("created"), _("last used"), _("revoked")):
            table.add_column(column)
        for token in tokens:
            table.add_row(token.prefix + "…", token.user.username, token.name, _when(token.created_at),
                          _when(token.last_used_at) or "—", _when(token.revoked_at))
        Console(file=self.stdout._out, width=120).print(table)


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""
