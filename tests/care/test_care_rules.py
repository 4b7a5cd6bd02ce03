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


def since(customer, day: datetime.date):
    """The customer became a customer at noon on `day` (visits are counted from then)."""
    from django.utils import timezone

    from guanxi.customers.models import Customer
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(12))))
    return customer


def visit_days(rule_, days=95, start=datetime.date(2026, 1, 1)):
    """{customer id: [days a visit fired]} over `days` days from `start`, each day run twice."""
    fired = {}
    for n in range(days):
        day = start + datetime.timedelta(days=n)
        services.apply_care_rules(day=day, rules=[rule_])
        services.apply_care_rules(day=day, rules=[rule_])
    for firing in CareFiring.objects.filter(rule=rule_).order_by("occurrence"):
        fired.setdefault(firing.customer_id, []).append(firing.occurrence)
    return fired


def test_periodic_visits_reach_the_grade_in_the_current_scoring_run_every_n_days_once(admin_user, rep, score):
    key = since(make_customer(rep, state="current"), datetime.date(2026, 1, 1))
    normal = since(make_customer(rep, state="current"), datetime.date(2026, 1, 1))
    since(make_customer(rep, state="current"), datetime.date(2026, 1, 1))  # never scored
    score({key: "key", normal: "normal"})
    visits = rule(admin_user, kind="periodic_visit", grade="key", interval_days=30)
    assert visit_days(visits) == {key.pk: [datetime.date(2026, 1, 31), datetime.date(2026, 3, 2), datetime.date(2026, 4, 1)]}
    assert Task.objects.filter(customer=key).count() == 3


def test_only_the_current_run_decides_the_grade(admin_user, rep, score):
    was_key = since(make_customer(rep, state="current"), datetime.date(2026, 1, 1))
    score({was_key: "key"}, current=False)
    score({was_key: "small"})
    assert visit_days(rule(admin_user, kind="periodic_visit", grade="key", interval_days=30)) == {}


def test_without_an_interval_a_grade_rule_follows_the_service_policy(admin_user, rep, score):
    # Seeded policies: normal customers with upgrade potential every 60 days, without potential no contact rhythm.
    promising = since(make_customer(rep, state="current", upgrade_potential="high"), datetime.date(2026, 1, 1))
    flat = since(make_customer(rep, state="current", upgrade_potential="none"), datetime.date(2026, 1, 1))
    score({promising: "normal", flat: "normal"})
    visits = rule(admin_user, kind="periodic_visit", grade="normal")
    assert visits.interval_days is None
    assert visit_days(visits, days=125) == {promising.pk: [datetime.date(2026, 3, 2), datetime.date(2026, 5, 1)]}


def test_the_customer_type_still_narrows_a_grade_rule(admin_user, rep, score):
    account = since(make_customer(rep, state="current", customer_type="key"), datetime.date(2026, 1, 1))
    transactional = since(make_customer(rep, state="current", customer_type="T"), datetime.date(2026, 1, 1))
    score({account: "key", transactional: "key"})
    visits = rule(admin_user, kind="periodic_visit", grade="key", interval_days=30, customer_type="key")
    assert set(visit_days(visits, days=35)) == {account.pk}


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "periodic_visit", "interval_days": 30}, "grade"),
    ({"kind": "periodic_visit", "grade": "vip", "interval_days": 30}, "grade"),
    ({"kind": "periodic_visit", "grade": "bad"}, "interval_days"),  # the bad-customer policy sets no contact rhythm
    ({"kind": "periodic_visit", "grade": "key", "interval_days": 0}, "interval_days"),
    ({"kind": "birthday", "grade": "key"}, "grade"),
])
def test_a_periodic_visit_rule_needs_a_grade_and_an_interval_from_somewhere(admin_user, fields, field):
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError) as error:
        rule(admin_user, **fields)
    assert field in error.value.message_dict
    assert not CareRule.objects.exists()


def test_finding_the_visits_due_costs_the_same_queries_for_any_number_of_customers(admin_user, rep, score):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    visits = rule(admin_user, kind="periodic_visit", grade="key")
    day = datetime.date(2026, 1, 31)

    def queries(n):
        customers = [since(make_customer(rep, state="current"), datetime.date(2026, 1, 1)) for _ in range(n)]
        score(dict.fromkeys(customers, "key"))
        with CaptureQueriesContext(connection) as captured:
            assert len(services.due_occurrences(visits, day)) == n
        return len(captured)

    assert queries(2) == queries(20)


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
