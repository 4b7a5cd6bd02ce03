"""`guanxi demo --customers N --seed S [--today YYYY-MM-DD] [--if-empty] [--login]`."""

import datetime
import secrets
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from guanxi.demo.generator import DEMO_TODAY, DemoGenerator, has_customers


class Command(BaseCommand):
    help = _(
        "Fill the database with deterministic demo data (same --customers and --seed give the same data). "
        "Dates are anchored to --today, by default %(today)s."
    ) % {"today": DEMO_TODAY.isoformat()}

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help=_("How many customers (default 2000)."))
        parser.add_argument("--seed", type=int, default=1, help=_("Random seed (default 1)."))
        parser.add_argument("--today", type=datetime.date.fromisoformat, default=DEMO_TODAY,
                            help=_("The date the data ends at, YYYY-MM-DD (default %(today)s).") % {"today": DEMO_TODAY})
        parser.add_argument("--if-empty", action="store_true", help=_("Do nothing if there are customers already."))
        parser.add_argument("--login", action="store_true",
                            help=_("Give every demo user one new random password and print the sign-in."))

    def handle(self, *args, customers, seed, today, if_empty, login, **options):
        console = Console(file=self.stdout._out, highlight=False)
        if customers < 1:
            raise CommandError(_("--customers must be at least 1."))
        if has_customers():
            if if_empty:
                console.print(_("Customers exist already: demo data left as it is."))
                if login:
                    console.print(_("Sign in with the login printed when the demo was created "
                                    "(reset it with `guanxi changepassword demo`)."))
                return
            raise CommandError(_("The database already has customers. Use a fresh database, or --if-empty to skip."))
        password = secrets.token_urlsafe(9) if login else None
        started = time.monotonic()
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), console=console, transient=False, disable=options["verbosity"] == 0) as progress:
            task = progress.add_task(_("Customers"), total=customers)
            generator = DemoGenerator(customers=customers, seed=seed, today=today, password=password)
            counts = generator.run(on_progress=lambda advance: progress.advance(task, advance))
        elapsed = time.monotonic() - started
        if options["verbosity"] > 0:
            table = Table(title=_("Demo data (seed %(seed)s, up to %(today)s)") % {"seed": seed, "today": today})
            table.add_column(_("table"))
            table.add_column(_("rows"), justify="right")
            for name, count in sorted(counts.items()):
                table.add_row(name, f"{count:,}")
            console.print(table)
            console.print(_("Generated in %(s).1f s.") % {"s": elapsed})
        if login:
            console.print()
            console.print(_("[bold]Demo sign-in[/bold] (every demo user has this password):"))
            for role, username in ((_("manager"), "demo"), (_("administrator"), "admin")):
                if username not in generator.kept_passwords:
                    console.print(f"  {role}: {username}  /  {password}")
            console.print("  " + _("also: sales001…, manager1…, service1…, analyst1"))
            if generator.kept_passwords:
                console.print(_("These users existed already and keep their passwords: %(users)s")
                              % {"users": ", ".join(generator.kept_passwords)})
