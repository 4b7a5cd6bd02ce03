"""`guanxi serve [--port P] [--host H] [--no-worker] [--migrate]` (DESIGN.md pitfall 5).

Checks before serving: the secret key exists (settings create it once, O_EXCL, 0600), the
database is migrated — unapplied migrations stop it with the command to run, because migrating
is a decision (take a backup first), unless `--migrate` is given — and static files are
collected into $GUANXI_HOME/static when the sources changed. Then it runs gunicorn (gthread) and
one `guanxi worker` as children: if either exits, or on Ctrl-C/SIGTERM, both are stopped.
"""

import ctypes
import hashlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _

STAMP_NAME = ".guanxi-static-stamp"
STOP_TIMEOUT = 30


def static_fingerprint() -> str:
    """A digest of every static source file's path, size and mtime: collectstatic only when it changes."""
    digest = hashlib.sha256()
    entries = []
    for finder in get_finders():
        for path, storage in finder.list([]):
            stat = os.stat(storage.path(path))
            entries.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode())
    digest.update(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    return digest.hexdigest()


def _die_with_parent():
    """Linux: the child gets SIGTERM if `guanxi serve` dies, even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Command(BaseCommand):
    help = _("Serve Guanxi with gunicorn and a background worker.")
    requires_migrations_checks = False
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-worker", action="store_true", help=_("Do not start a background worker."))
        parser.add_argument("--migrate", action="store_true", help=_("Apply unapplied migrations first."))
        parser.add_argument("--workers", type=int, default=2, help=_("gunicorn worker processes (default 2)."))
        parser.add_argument("--threads", type=int, default=4, help=_("Threads per gunicorn worker (default 4)."))

    def handle(self, *args, port, host, no_worker, migrate, workers, threads, **options):
        call_command("check", deploy=False, verbosity=0)
        self._check_migrations(migrate)
        self._collect_static()
        home = settings.GUANXI_HOME
        database = settings.DATABASES["default"]
        where = database["NAME"] if database["ENGINE"].endswith("sqlite3") else f"{database.get('HOST') or 'localhost'}/{database['NAME']}"
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.stdout.write(_("GUANXI_HOME: %(home)s") % {"home": home})
        self.stdout.write(_("Database: %(vendor)s %(where)s") % {"vendor": connections["default"].vendor, "where": where})
        self.stdout.write(self.style.SUCCESS(_("Guanxi is starting at http://%(bind)s/") % {"bind": bind}))
        connections.close_all()  # children open their own

        children = []
        if not no_worker:
            children.append(self._spawn([sys.executable, "-m", "guanxi", "worker", "-v", "0"]))
        children.append(self._spawn([
            sys.executable, "-m", "gunicorn", "guanxi.wsgi", "-k", "gthread", "--workers", str(workers),
            "--threads", str(threads), "--timeout", "120", "--graceful-timeout", str(STOP_TIMEOUT), "--bind", bind,
            "--no-control-socket",
        ]))
        stop = {"requested": False}

        def on_signal(signum, frame):
            stop["requested"] = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        code = 0
        while not stop["requested"]:
            exited = [c for c in children if c.poll() is not None]
            if exited:
                code = exited[0].returncode or 1
                self.stderr.write(_("A server process exited (code %(code)s); stopping.") % {"code": exited[0].returncode})
                break
            time.sleep(0.2)
        self._stop(children)
        if code:
            raise SystemExit(code)

    def _spawn(self, argv):
        return subprocess.Popen(argv, preexec_fn=_die_with_parent)

    @staticmethod
    def _stop(children):
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT + 5
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def _check_migrations(self, migrate: bool):
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if not plan:
            return
        if migrate:
            call_command("migrate", interactive=False, verbosity=1)
            return
        raise CommandError(
            _("The database has %(n)d unapplied migration(s). Back it up, then run `guanxi migrate` "
              "(or start with `guanxi serve --migrate`).") % {"n": len(plan)}
        )

    def _collect_static(self):
        root = settings.STATIC_ROOT
        stamp = os.path.join(root, STAMP_NAME)
        fingerprint = static_fingerprint()
        try:
            with open(stamp) as handle:
                if handle.read().strip() == fingerprint:
                    return
        except FileNotFoundError:
            pass
        self.stdout.write(_("Collecting static files into %(root)s …") % {"root": root})
        call_command("collectstatic", interactive=False, verbosity=0, clear=True)
        os.makedirs(root, exist_ok=True)
        with open(stamp, "w") as handle:
            handle.write(fingerprint)
