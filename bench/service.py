"""Service and care benchmark: complaint statistics, lists, SLA maths, escalation, public form, care run.

Run as ``python bench/service.py [--customers N] [--complaints C] [--requests R]`` with the project's
virtualenv. It uses its own GUANXI_HOME (default ``/tmp/gx-bench-service``; SQLite unless
DATABASE_URL is set), migrates, fills it once with ``guanxi demo --customers N`` plus C complaints
spread over the last year in every state (bulk-inserted), then times:

- ``add_business_hours`` (the SLA deadline) per call;
- the complaint list (API, 50 rows) and the case page: p50/p95 and SQL queries;
- the statistics (page and API) over the last 365 days;
- one escalation sweep over the open complaints (cold, then warm: nothing left to escalate);
- a public-form submission (complaint + outbox row in one transaction);
- the daily care run for a holiday rule reaching every current customer (first run, then the rerun
  that must add nothing).
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def timed(func, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


class QueryCounter:
    """Counts SQL statements through an execute wrapper (the test client's request_started signal clears
    connection.queries, so CaptureQueriesContext sees none)."""

    def __init__(self, connection):
        self.connection, self.count = connection, 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self._wrapper = self.connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--complaints", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--home", default="/tmp/gx-bench-service")
    args = parser.parse_args()

    os.environ.setdefault("GUANXI_HOME", args.home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    os.environ.setdefault("GUANXI_ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone

    from guanxi.accounts.models import Role, User
    from guanxi.accounts.tokens import create_token
    from guanxi.care import services as care
    from guanxi.care.models import CareFiring, CareRule
    from guanxi.customers.models import Customer
    from guanxi.service import services, sla, statistics as complaint_statistics
    from guanxi.service.models import Category, Complaint, ComplaintStep, Severity, Status

    from django.conf import settings

    # Pages render {% static %}: plain storage, no collectstatic manifest needed for a benchmark.
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
    call_command("migrate", verbosity=0)
    if not Customer.objects.exists():
        started = time.perf_counter()
        call_command("demo", customers=args.customers, seed=1, verbosity=0)
        print(f"demo data for {args.customers} customers: {time.perf_counter() - started:.0f} s")
    if not Complaint.objects.exists():
        started = time.perf_counter()
        rng = random.Random(1)
        now = timezone.now()
        ids = list(Customer.objects.values_list("pk", flat=True))
        statuses = [s for s in Status.values]
        rows = []
        for i in range(args.complaints):
            received = now - datetime.timedelta(minutes=rng.randrange(365 * 24 * 60))
            severity = rng.choice(Severity.values)
            times = services.sla_times(severity, received)
            status = rng.choice(statuses)
            acked = received + datetime.timedelta(hours=rng.uniform(0.2, 30)) if status != Status.RECEIVED else None
            resolved = received + datetime.timedelta(hours=rng.uniform(2, 300)) if status in ("resolved", "accounted", "evaluated", "archived") else None
            rows.append(Complaint(reference=f"TS-B-{i:07d}", customer_id=rng.choice(ids), channel=rng.choice(["hotline", "web_form", "email"]),
                                  category=rng.choice(Category.values), severity=severity, status=status, description="bench",
                                  received_at=received, **times,
                                  acknowledged_at=acked, resolved_at=resolved, handling_rating=rng.choice([None, 2, 3, 4, 5]),
                                  reopen_count=rng.choice([0, 0, 0, 1])))
        Complaint.objects.bulk_create(rows, batch_size=2000)
        ComplaintStep.objects.bulk_create([ComplaintStep(complaint_id=pk, action="notify_customer", to_status="notified")
                                           for pk in Complaint.objects.filter(status__in=["notified", "resolved", "archived"]).values_list("pk", flat=True)],
                                          batch_size=2000)
        print(f"{args.complaints} complaints: {time.perf_counter() - started:.1f} s")

    admin = User.objects.filter(role=Role.ADMIN, is_active=True).first()
    print(f"database: {connection.vendor}; customers: {Customer.objects.count()}; complaints: {Complaint.objects.count()}")
    print(f"\n{'measure':44} {'p50 ms':>9} {'p95 ms':>9} {'queries':>8}")

    start = timezone.now()
    p50, p95 = timed(lambda: [sla.add_business_hours(start + datetime.timedelta(hours=h), 40) for h in range(100)], args.requests)
    print(f"{'add_business_hours ×100 (40 h)':44} {p50:9.2f} {p95:9.2f} {'-':>8}")

    _token, raw = create_token(user=admin, name="bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    web = Client()
    web.force_login(admin)
    sample = Complaint.objects.order_by("pk").first()
    cases = [
        ("API complaints ?open (50)", lambda: api.get("/api/v1/complaints?open=true&limit=50")),
        ("API complaint detail", lambda: api.get(f"/api/v1/complaints/{sample.pk}")),
        ("page /complaints/", lambda: web.get("/complaints/")),
        ("page /complaints/<id>/", lambda: web.get(f"/complaints/{sample.pk}/")),
        ("statistics (365 days)", lambda: complaint_statistics.complaint_statistics(admin)),
        ("page /complaints/statistics/", lambda: web.get("/complaints/statistics/")),
    ]
    for name, call in cases:
        with QueryCounter(connection) as queries:
            call()
        p50, p95 = timed(call, max(3, args.requests // (4 if "statistics" in name else 1)))
        print(f"{name:44} {p50:9.1f} {p95:9.1f} {queries.count:8d}")

    with override_settings(MAILERS={"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}):
        started = time.perf_counter()
        escalated = services.escalate_near_breaches()
        cold = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        again = services.escalate_near_breaches()
        warm = (time.perf_counter() - started) * 1000
    print(f"{'escalation sweep (cold: %d escalated)' % len(escalated):44} {cold:9.0f} {'':>9} {'':>8}")
    print(f"{'escalation sweep (warm: %d escalated)' % len(again):44} {warm:9.0f} {'':>9} {'':>8}")

    public = Client()
    form = {"name": "Bench", "email": "bench@example.com", "category": "delivery", "description": "late", "website": ""}
    with override_settings(PUBLIC_COMPLAINT_RATE=(10**9, 3600)):
        cache.clear()
        p50, p95 = timed(lambda: public.post("/complain/", form), args.requests)
    print(f"{'public form submission':44} {p50:9.1f} {p95:9.1f} {'-':>8}")

    rule = CareRule.objects.filter(name="bench holiday").first() or care.create_care_rule(
        actor=admin, name="bench holiday", kind="holiday", holiday="mid_autumn", create_task=False, send_email=True)
    CareFiring.objects.filter(rule=rule).delete()
    day = datetime.date(2026, 9, 25)
    started = time.perf_counter()
    first = care.apply_care_rules(day=day, rules=[rule])
    cold = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    rerun = care.apply_care_rules(day=day, rules=[rule])
    warm = (time.perf_counter() - started) * 1000
    print(f"{'care run, holiday rule (%d customers greeted)' % first:44} {cold:9.0f} {'':>9} {'':>8}")
    print(f"{'care rerun, same day (%d more)' % rerun:44} {warm:9.0f} {'':>9} {'':>8}")


if __name__ == "__main__":
    main()
