"""Orders: exact totals, due dates by payment terms, readable unique numbers, cancel and deliver."""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.core.locking import StaleVersion
from guanxi.customers.models import Customer, CustomerEvent, PaymentTerms
from guanxi.sales import services
from guanxi.sales.models import Order
from tests.factories import make_customer

D = Decimal
ORDER_DAY = datetime.date(2026, 3, 10)


def cents(amount: Decimal) -> Decimal:
    """Money rounds half-up to the cent (180.35 × 1.5 = 270.525 → 270.53), as an invoice does."""
    return amount.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def test_order_totals_discount_and_cost_are_exact_decimals(rep, customer, tea, kettle):
    order = services.create_order(
        customer=customer, actor=rep, order_date=ORDER_DAY,
        lines=[{"product": tea, "quantity": D("3"), "unit_price": D("90.00")},
               {"product": kettle.pk, "quantity": D("1.5")}],
    )

    order.refresh_from_db()
    kettle_total = cents(D("1.5") * kettle.list_price)
    assert order.total == D("270.00") + kettle_total
    assert order.discount_total == (tea.list_price - D("90.00")) * 3
    assert order.cost_total == tea.cost * 3 + cents(kettle.cost * D("1.5"))
    assert order.margin == order.total - order.cost_total
    assert sorted(line.line_total for line in order.lines.all()) == sorted([D("270.00"), kettle_total])


@pytest.mark.parametrize(("terms", "days", "expected_offset"), [
    (PaymentTerms.PREPAY, 0, 0),
    (PaymentTerms.CASH, 0, 0),
    (PaymentTerms.NET, 45, 45),
])
def test_due_date_follows_the_customers_payment_terms(rep, tea, terms, days, expected_offset):
    customer = make_customer(rep, payment_terms=terms, payment_days=days)

    order = services.create_order(customer=customer, actor=rep, order_date=ORDER_DAY, lines=[{"product": tea, "quantity": 1}])

    assert order.due_date == ORDER_DAY + datetime.timedelta(days=expected_offset)


def test_order_numbers_are_readable_and_count_up_within_the_year(rep, customer, tea):
    first = services.create_order(customer=customer, actor=rep, order_date=ORDER_DAY, lines=[{"product": tea}])
    second = services.create_order(customer=customer, actor=rep, order_date=ORDER_DAY, lines=[{"product": tea}])

    assert re.fullmatch(r"SO-2026-\d{6}", first.number)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_order_numbers_continue_after_numbers_already_in_the_database(rep, customer, tea):
    Order.objects.create(number="SO-2027-000041", customer=customer, order_date=datetime.date(2027, 1, 2))

    order = services.create_order(customer=customer, actor=rep, order_date=datetime.date(2027, 2, 1), lines=[{"product": tea}])

    assert order.number == "SO-2027-000042"


@pytest.mark.parametrize(("line", "field"), [
    ({"quantity": D("-1")}, "lines.0.quantity"),
    ({"quantity": D("0")}, "lines.0.quantity"),
    ({"quantity": D("1.0001")}, "lines.0.quantity"),
    ({"unit_price": D("9.999")}, "lines.0.unit_price"),
    ({"unit_price": D("-5")}, "lines.0.unit_price"),
    ({"unit_price": D("1e20")}, "lines.0.unit_price"),
    ({"quantity": D("999999999"), "unit_price": D("999999999")}, "lines.0.quantity"),
    ({"product": 987654321}, "lines.0.product"),
])
def test_bad_lines_are_refused_naming_the_field_and_nothing_is_written(rep, customer, tea, line, field):
    with pytest.raises(ValidationError) as error:
        services.create_order(customer=customer, actor=rep, lines=[{"product": tea, **line}])

    assert field in error.value.message_dict
    assert not Order.objects.exists()


def test_an_order_needs_lines(rep, customer):
    with pytest.raises(ValidationError) as error:
        services.create_order(customer=customer, actor=rep, lines=[])
    assert "lines" in error.value.message_dict


def test_a_rep_cannot_order_for_another_reps_customer(rep, other_rep, tea):
    theirs = make_customer(other_rep)

    with pytest.raises(Customer.DoesNotExist):
        services.create_order(customer=theirs, actor=rep, lines=[{"product": tea}])


def test_read_only_roles_cannot_place_orders(analyst, customer, tea):
    with pytest.raises(PermissionDenied):
        services.create_order(customer=customer, actor=analyst, lines=[{"product": tea}])


def test_cancelling_an_order_records_who_and_why(rep, customer, tea):
    order = services.create_order(customer=customer, actor=rep, lines=[{"product": tea}])

    services.cancel_order(order=order, actor=rep, expected_version=order.version, reason="客户改主意")

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    event = CustomerEvent.objects.get(customer=customer, verb="order_cancelled")
    assert event.actor == rep and "客户改主意" in event.summary


def test_an_order_with_payments_cannot_be_cancelled(rep, customer, tea):
    order = services.create_order(customer=customer, actor=rep, lines=[{"product": tea}])
    services.record_payment(customer=customer, order=order, amount=D("10.00"), actor=rep)
    order.refresh_from_db()

    with pytest.raises(ValidationError):
        services.cancel_order(order=order, actor=rep, expected_version=order.version)

    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_delivery_keeps_promised_and_actual_dates(rep, customer, tea):
    order = services.create_order(customer=customer, actor=rep, order_date=ORDER_DAY,
                                  promised_delivery=ORDER_DAY + datetime.timedelta(days=3), lines=[{"product": tea}])

    services.deliver_order(order=order, actor=rep, expected_version=order.version, delivered_on=ORDER_DAY + datetime.timedelta(days=5))

    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert (order.delivered_on - order.promised_delivery).days == 2
    assert "2" in CustomerEvent.objects.get(customer=customer, verb="order_delivered").summary


def test_an_edit_based_on_a_stale_copy_is_refused(rep, customer, tea):
    order = services.create_order(customer=customer, actor=rep, lines=[{"product": tea}])
    stale_copy = Order.objects.get(pk=order.pk)
    services.deliver_order(order=order, actor=rep, expected_version=order.version)

    with pytest.raises(StaleVersion):
        services.cancel_order(order=stale_copy, actor=rep, expected_version=stale_copy.version)

    assert Order.objects.get(pk=order.pk).status == Order.Status.DELIVERED
