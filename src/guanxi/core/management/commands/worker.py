"""`guanxi worker`: every task queue, plus the scheduler, retries, the reaper and pruning.

Two threads take tasks — one for `default` and `mail`, one for `bulk` — so a long import never
delays an e-mail; the main thread sends heartbeats, reaps tasks of dead workers and runs the
periodic jobs (see guanxi.core.jobs). Ctrl-C (or SIGTERM) lets running tasks finish; a second
Ctrl-C exits at once.
"""

import logging
import os
import signal
import socket
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from guanxi.core import jobs

BULK_QUEUE = "bulk"


class Command(BaseCommand):
    help = _("Run background tasks from every queue, and the periodic jobs.")

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help=_("Seconds between polls when idle."))
        parser.add_argument("--batch", action="store_true",
                            help=_("Reap, run due periodic jobs and every ready task once, then exit."))
        parser.add_argument("--no-scheduler", action="store_true", help=_("Do not run periodic jobs."))
        parser.add_argument("--worker-id", default="", help=_("Unique id of this worker (default: host, pid, random)."))

    def handle(self, *args, interval, batch, no_scheduler, worker_id, **options):
        logging.getLogger("django_tasks_db").setLevel(logging.WARNING if options["verbosity"] < 2 else logging.INFO)
        base_id = (worker_id or f"{socket.gethostname()}-{os.getpid()}-{get_random_string(6)}")[:60]
        periodic = {} if no_scheduler else jobs.discover_jobs()
        queues = list(settings.TASKS.get("default", {}).get("QUEUES", ["default"]))
        groups = [[q for q in queues if q != BULK_QUEUE]] + ([[BULK_QUEUE]] if BULK_QUEUE in queues else [])
        workers = [
            jobs.RetryingWorker(queue_names=group, interval=interval, batch=batch, backend_name="default",
                                startup_delay=False, max_tasks=None, worker_id=f"{base_id}-{n}", excluded_queue_names=[])
            for n, group in enumerate(groups, start=1) if group
        ]
        ids = [w.worker_id for w in workers]
        self.stopping = False
        self._install_signals(workers)

        jobs.beat(ids)
        jobs.reap_stale_tasks()
        if periodic:
            jobs.run_due_jobs(worker_id=base_id, jobs=periodic)
        threads = [threading.Thread(target=self._serve, args=(w,), name=w.worker_id, daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        if options["verbosity"] > 0:
            self.stdout.write(_("Worker %(id)s serving queues %(queues)s; %(jobs)d periodic jobs.")
                              % {"id": base_id, "queues": ", ".join(queues), "jobs": len(periodic)})
        last_beat = time.monotonic()
        try:
            while any(t.is_alive() for t in threads):
                for thread in threads:
                    thread.join(timeout=max(interval, 0.1) / len(threads))
                if self.stopping or batch:
                    continue
                if not all(t.is_alive() for t in threads):
                    self.stderr.write(_("A worker thread stopped unexpectedly; exiting."))
                    self._stop(workers)
                    raise SystemExit(1)
                if time.monotonic() - last_beat >= jobs.HEARTBEAT_EVERY.total_seconds():
                    jobs.beat(ids)
                    jobs.reap_stale_tasks()
                    last_beat = time.monotonic()
                if periodic:
                    jobs.run_due_jobs(worker_id=base_id, jobs=periodic)
        finally:
            jobs.forget_worker(ids)
            connections.close_all()

    @staticmethod
    def _serve(worker):
        try:
            worker.run()
        finally:
            connections.close_all()

    def _stop(self, workers):
        self.stopping = True
        for worker in workers:
            worker.running = False

    def _install_signals(self, workers):
        def on_signal(signum, frame):
            if self.stopping:
                os._exit(1)
            self.stderr.write(_("Stopping after the running tasks finish (press Ctrl-C again to force)."))
            self._stop(workers)

        for name in ("SIGINT", "SIGTERM", "SIGQUIT"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), on_signal)
