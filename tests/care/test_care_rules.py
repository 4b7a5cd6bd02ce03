"""Care rules fire on the right day, exactly once per (rule, customer, occurrence); opt-outs are honoured."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from hypothesis.extra.django import TestCase

from guanxi.care import calendar, services
from guanxi.care.models import CareFiring, CareRule
from guanxi.engagement.models import Task
from guanxi.messaging.models import OutboundEmail
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


def rule(actor, **fields):
    return services.create_care_rule(actor=actor, **{"name": "关怀", "create_task": True, **fields})


def test_the_lunar_holidays_come_from_the_calendar():
    assert calendar.holiday_date(CareRule.Holiday.SPRING_FESTIVAL, 2025) == datetime.date(2025, 1, 29)
    assert calendar.holiday_date(CareRule.Holiday.MID_AUTUMN, 2026) == datetime.date(2026, 9, 25)


def test_a_birthday_rule_creates_one_task_n_days_before_and_a_rerun_adds_nothing(admin_user, rep):
    customer = make_customer(rep, state="current", birthday=datetime.date(1990, 6, 15))
    birthday = rule(admin_user, kind="birthday", days_before=3, send_email=True)
    assert services.apply_care_rules(day=datetime.date(2026, 6, 11)) == 0
    assert services.apply_care_rules(day=datetime.date(2026, 6, 12)) == 1
    assert services.apply_care_rules(day=datetime.date(2026, 6, 12)) == 0
    task = Task.objects.get(customer=customer)
    assert task.assignee == rep and "2026-06-15" in task.title
    assert CareFiring.objects.get(rule=birthday).occurrence == datetime.date(2026, 6, 15)


def test_a_29_february_birthday_is_greeted_on_the_28th_in_common_years(admin_user, rep):
    make_customer(rep, state="current", birthday=datetime.date(1992, 2, 29))
    rule(admin_user, kind="birthday")
    assert services.apply_care_rules(day=datetime.date(2027, 2, 28)) == 1
    assert services.apply_care_rules(day=datetime.date(2028, 2, 28)) == 0
    assert services.apply_care_rules(day=datetime.date(2028, 2, 29)) == 1


def test_an_opted_out_customer_is_left_alone(admin_user, rep, current_customer):
    services.opt_out_of_care(customer=current_customer, actor=rep, reason="不希望被打扰")
    rule(admin_user, kind="holiday", holiday="mid_autumn", send_email=True)
    assert services.apply_care_rules(day=datetime.date(2026, 9, 25)) == 0
    assert not Task.objects.exists() and not OutboundEmail.objects.exists()


def test_a_marketing_opt_out_gets_the_visit_task_but_no_greeting_mail(admin_user, rep, current_customer):
    from guanxi.customers import services as customers
    customers.set_marketing_consent(customer=current_customer, consent=False, actor=rep)
    current_customer.refresh_from_db()
    rule(admin_user, kind="holiday", holiday="christmas", send_email=True)
    services.apply_care_rules(day=datetime.date(2026, 12, 25))
    assert current_customer.is_opted_out and not OutboundEmail.objects.exists()
    assert Task.objects.filter(customer=current_customer).count() == 1


def test_a_revisit_is_due_n_days_after_a_purchase(admin_user, rep, current_customer):
    from guanxi.sales import services as sales
    product = sales.create_product(actor=admin_user, sku="P-1", name="茶", list_price=Decimal("10"))
    sales.create_order(customer=current_customer, actor=rep, lines=[{"product": product.pk, "quantity": 1}], order_date=datetime.date(2026, 3, 2))
    rule(admin_user, kind="after_purchase", days_after=7)
    assert services.apply_care_rules(day=datetime.date(2026, 3, 8)) == 0
    assert services.apply_care_rules(day=datetime.date(2026, 3, 9)) == 1


def test_a_relationship_anniversary_names_the_year(admin_user, rep):
    from django.utils import timezone

    from guanxi.customers.models import Customer
    customer = make_customer(rep, state="current")
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.make_aware(datetime.datetime(2001, 5, 20, 12)))
    rule(admin_user, kind="anniversary")
    assert services.apply_care_rules(day=datetime.date(2026, 5, 20)) == 1
    assert "25" in Task.objects.get().title


def test_periodic_visits_every_n_days(admin_user, rep):
    from django.utils import timezone

    from guanxi.customers.models import Customer
    customer = make_customer(rep, state="current", customer_type="key")
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.make_aware(datetime.datetime(2026, 1, 1, 12)))
    make_customer(rep, state="current", customer_type="T")
    rule(admin_user, kind="periodic_visit", interval_days=30, customer_type="key")
    fired = [day for day in (datetime.date(2026, 1, 1) + datetime.timedelta(days=n) for n in range(95))
             if services.apply_care_rules(day=day)]
    assert fired == [datetime.date(2026, 1, 31), datetime.date(2026, 3, 2), datetime.date(2026, 4, 1)]


def test_only_managers_set_up_rules(rep):
    from django.core.exceptions import PermissionDenied
    with pytest.raises(PermissionDenied):
        rule(rep, kind="birthday")


class CareRulesFireOnTheRightDayExactlyOnce(TestCase):
    """Over random years and lead times, incl. the lunar Spring Festival and Mid-Autumn."""

    @classmethod
    def setUpTestData(cls):
        cls.admin = make_user("admin", username="care_admin")
        cls.rep = make_user("sales", username="care_rep")
        cls.customers = [make_customer(cls.rep, state="current", birthday=datetime.date(1985, 2, 10)) for _ in range(3)]

    @hsettings(max_examples=12, deadline=None)
    @given(year=st.integers(min_value=2024, max_value=2040), days_before=st.integers(min_value=0, max_value=20),
           holiday=st.sampled_from(["spring_festival", "mid_autumn", "dragon_boat", "christmas"]))
    def test_a_holiday_greeting(self, year, days_before, holiday):
        CareRule.objects.all().delete()
        care = rule(self.admin, kind="holiday", holiday=holiday, days_before=days_before)
        date = calendar.holiday_date(holiday, year)
        # Every day from well before to after the holiday, each run twice
        for offset in range(-days_before - 3, 3):
            day = date + datetime.timedelta(days=offset)
            services.apply_care_rules(day=day, rules=[care])
            services.apply_care_rules(day=day, rules=[care])
        firings = CareFiring.objects.filter(rule=care)
        assert firings.count() == len(self.customers)
        assert {f.fired_on for f in firings} == {date - datetime.timedelta(days=days_before)}
        assert {f.occurrence for f in firings} == {date}

    @hsettings(max_examples=10, deadline=None)
    @given(birthday=st.dates(min_value=datetime.date(1950, 1, 1), max_value=datetime.date(2005, 12, 31)),
           year=st.integers(min_value=2025, max_value=2035), days_before=st.integers(min_value=0, max_value=10))
    def test_a_birthday_greeting(self, birthday, year, days_before):
        CareRule.objects.all().delete()
        customer = make_customer(self.rep, state="current", birthday=birthday)
        care = rule(self.admin, kind="birthday", days_before=days_before)
        this_year = calendar.yearly_date(birthday.month, birthday.day, year)
        for offset in range(-days_before - 2, 2):
            services.apply_care_rules(day=this_year + datetime.timedelta(days=offset), rules=[care])
        firing = CareFiring.objects.get(rule=care, customer=customer)
        assert firing.fired_on == this_year - datetime.timedelta(days=days_before)
