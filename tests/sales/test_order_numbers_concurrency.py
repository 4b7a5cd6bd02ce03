"""Order numbers stay unique when many people place orders at the same moment (real transactions, threads)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from guanxi.sales import services
from guanxi.sales.models import Order

WRITERS = 6
ORDERS_EACH = 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_get_distinct_consecutive_numbers(rep, customer, admin_user):
    product = services.create_product(actor=admin_user, sku="C-1", name="并发测试", list_price=Decimal("1.00"))
    errors = []
    start = threading.Barrier(WRITERS)

    def place_orders():
        try:
            start.wait()
            for _ in range(ORDERS_EACH):
                services.create_order(customer=customer, actor=rep, lines=[{"product": product}])
        except Exception as exc:  # reported below, with the thread's error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=place_orders) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = sorted(int(n[-6:]) for n in Order.objects.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + WRITERS * ORDERS_EACH))
