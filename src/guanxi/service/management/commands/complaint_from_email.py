"""`guanxi complaint_from_email < message.eml`: file the e-mail on stdin as a complaint.

Point the complaints address of your mail server at it (e.g. a Postfix alias
`complaints: "|/path/to/guanxi complaint_from_email"`). Prints the reference; the sender gets the
acknowledgement e-mail like any other complainant.
"""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from guanxi.service import services


class Command(BaseCommand):
    help = "File the e-mail message on standard input as a complaint."

    def handle(self, *args, **options):
        raw = sys.stdin.buffer.read()
        try:
            complaint = services.receive_email_complaint(raw=raw)
        except ValidationError as error:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())) from None
        self.stdout.write(complaint.reference)
