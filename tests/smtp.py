"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, a free port), with settings.MAILERS pointed at it.

Django's test set-up swaps every mailer for locmem (DESIGN.md pitfall 7); the fixture points
MAILERS back at real SMTP so messages cross a socket as they would in production.
"""

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """Received messages in `messages` (parsed); `stop()` and `start()` simulate an outage."""

    def __init__(self, port: int):
        self.port = port
        self.messages: list[email.message.EmailMessage] = []
        self._controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def start(self):
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in str(m["To"])]

    def mailer_settings(self) -> dict:
        return {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                            "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 10}}}


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server that Django sends to."""
    server = SmtpServer(free_port()).start()
    settings.MAILERS = server.mailer_settings()
    yield server
    server.stop()


@pytest.fixture
def smtp_server_down(settings):
    """Django is configured for an SMTP server that is not (yet) running; call `.start()` to bring it up."""
    server = SmtpServer(free_port())
    settings.MAILERS = server.mailer_settings()
    yield server
    server.stop()


def run_mail_worker(worker_id: str = "test-mail-worker") -> None:
    """What `guanxi worker` does with the ready mail tasks, once (it commits: tests using it are transactional)."""
    from guanxi.core import jobs

    jobs.RetryingWorker(queue_names=["mail"], interval=0, batch=True, backend_name="default", startup_delay=False,
                        max_tasks=None, worker_id=worker_id, excluded_queue_names=[]).run()
