"""Server time of the sales and service workspaces and the dashboard on a filled database.

    GUANXI_HOME=/path/with/a/demo/database python bench/workspaces.py [--requests 15]
    DATABASE_URL=postgres://… python bench/workspaces.py

Fill the database first (`guanxi demo --customers 100000 --seed 1`: about 860,000 orders).
Pages are rendered in-process through the URL configuration (Django test Client, full
templates) for the administrator (sees every customer), the manager `demo` (a department)
and the busiest sales rep. The dashboard is measured uncached (its per-user cache is cleared
before every request) so the figure is the worst case a user meets once a minute.

p50/p95 in milliseconds and SQL queries per request. On PostgreSQL, compare with
PGOPTIONS="-c jit=off": the planner over-estimates the correlated credit-limit query and JIT
compilation then costs ~0.7 s per request (measured 2026-11-24).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

PAGES = [
    ("dashboard (uncached)", "/"),
    ("pipeline", "/pipeline/"),
    ("my tasks", "/tasks/"),
    ("team tasks", "/tasks/?view=team"),
    ("interactions", "/interactions/"),
    ("interactions, channel filter", "/interactions/?channel=visit"),
    ("orders", "/orders/"),
    ("orders, status + dates", "/orders/?status=delivered&from=2025-01-01&to=2025-12-31"),
    ("products", "/products/?active=all"),
    ("receivables", "/receivables/"),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=15)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings_test")  # plain static storage: no collectstatic needed
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from guanxi.accounts.models import Role, User
    from guanxi.customers.models import Customer

    settings.ALLOWED_HOSTS = ["*"]
    rep_id = (Customer.objects.filter(owner__role=Role.SALES).values("owner_id").annotate(n=Count("pk")).order_by("-n")
              .values_list("owner_id", flat=True).first())
    users = [u for u in (User.objects.filter(is_superuser=True).first(), User.objects.filter(username="demo").first(),
                         User.objects.filter(pk=rep_id).first()) if u is not None]
    print(f"{connection.vendor}: {Customer.objects.count():,} customers")
    print(f"{'page':34} {'user':10} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for user in users:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        for label, url in PAGES:
            times, queries = [], 0
            for _ in range(args.requests):
                cache.clear()
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
                queries = len(captured.captured_queries)
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            print(f"{label:34} {user.username:10} {statistics.median(times):8.1f} {p95:8.1f} {queries:8d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
