"""A `guanxi score` process killed mid-way leaves the previous scores current; the next run completes."""

import datetime
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from guanxi.customers.models import Customer
from guanxi.insights import services
from guanxi.insights.models import CustomerScore, ScoringRun
from guanxi.sales.models import Order

AS_OF = datetime.date(2026, 6, 30)
CUSTOMERS = 20_000


def database_url() -> str:
    """The test database, as the child process must reach it."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    host, port = settings.get("HOST") or "127.0.0.1", settings.get("PORT") or 5432
    return f"postgres://{settings['USER']}@{host}:{port}/{settings['NAME']}"


def many_customers_with_orders(owner):
    """Volume enough for a run that lasts seconds: inserted in bulk, since 60,000 orders through the
    order service would take minutes; scoring reads only these columns."""
    customers = Customer.objects.bulk_create(Customer(name=f"批量{i}", owner=owner) for i in range(CUSTOMERS))
    orders = []
    for i, customer in enumerate(customers):
        for k in range(3):
            day = AS_OF - datetime.timedelta(days=30 + (i * 7 + k * 97) % 600)
            total = Decimal(100 + (i * 13 + k * 31) % 900)
            orders.append(Order(number=f"B{i}-{k}", customer=customer, owner=owner, order_date=day, due_date=day,
                                total=total, cost_total=total * Decimal("0.6"), amount_paid=total))
    Order.objects.bulk_create(orders, batch_size=5_000)


@pytest.mark.django_db(transaction=True)
def test_a_killed_scoring_process_keeps_old_scores_current_and_a_rerun_completes(manager):
    # Given customers with orders and a completed scoring run
    many_customers_with_orders(manager)
    previous = services.run_scoring(as_of=AS_OF, actor=manager)
    previous_scores = CustomerScore.objects.filter(run=previous).count()
    # When `guanxi score` is killed after it has started writing its scores
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "guanxi.settings"}
    guanxi = Path(sys.executable).with_name("guanxi")
    child = subprocess.Popen([str(guanxi), "score", "--as-of", AS_OF.isoformat(), "--no-warnings", "-v0"], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            killed = ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING).exclude(pk=previous.pk).first()
            if killed and CustomerScore.objects.filter(run=killed).exists():
                break
            assert child.poll() is None, "the run finished before it could be killed"
            time.sleep(0.02)
        else:
            pytest.fail("no scores were written within two minutes")
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    # Then the previous run is still the current one, with all its scores
    previous.refresh_from_db()
    assert previous.is_current
    assert CustomerScore.objects.filter(run=previous).count() == previous_scores
    assert CustomerScore.objects.filter(run__is_current=True).count() == previous_scores
    # And the next run cleans up the killed one and completes
    rerun = services.run_scoring(as_of=AS_OF, actor=manager)
    killed.refresh_from_db()
    assert killed.status == ScoringRun.Status.FAILED
    assert not CustomerScore.objects.filter(run=killed).exists()
    assert rerun.is_current and CustomerScore.objects.filter(run=rerun).count() == CUSTOMERS
