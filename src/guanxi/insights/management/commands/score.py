"""`guanxi score [--as-of YYYY-MM-DD] [--no-warnings]`: score every customer now, with a progress bar."""

import datetime
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from guanxi.insights import services


class Command(BaseCommand):
    help = _("Score every customer (RFM, grade, stage, CLV, P(alive)) and make the run current.")

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, default=None,
                            help=_("Score as of this date, YYYY-MM-DD (default today)."))
        parser.add_argument("--no-warnings", action="store_true", help=_("Do not evaluate the early warnings afterwards."))

    def handle(self, *args, as_of, no_warnings, **options):
        console = Console(file=self.stdout._out, highlight=False)
        started = time.monotonic()
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, disable=options["verbosity"] == 0) as bar:
            task = bar.add_task(_("Scoring"), total=None)

            def on_progress(phase: str, done: int, total: int) -> None:
                bar.update(task, description=phase, completed=done, total=total)

            try:
                run = services.run_scoring(as_of=as_of, progress=on_progress)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        scored = time.monotonic() - started
        if not no_warnings:
            counts = services.evaluate_warnings(as_of=run.as_of)
            if options["verbosity"] > 0:
                console.print(_("Warnings raised: %(counts)s") % {"counts": counts})
        if options["verbosity"] > 0:
            console.print(_("Scored %(n)d customers as of %(date)s in %(s).1f s (run %(id)d).")
                          % {"n": run.customers, "date": run.as_of, "s": scored, "id": run.pk})
