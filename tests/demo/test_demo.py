"""The demo generator: deterministic, complete, and valid by the same rules the services enforce."""

import datetime
import hashlib
import io
import json
import re
from collections import defaultdict
from decimal import Decimal

import phonenumbers
import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, F, Sum
from django.test import Client
from stdnum.cn import uscc

from guanxi.accounts.models import Role, User
from guanxi.customers.models import Contact, Customer, StateChange
from guanxi.customers.profile import validate_profile
from guanxi.customers.search import search_customers
from guanxi.demo.generator import DEMO_TODAY, generate
from guanxi.sales.models import Order, OrderLine, Payment

SMALL = 200
# Models the demo leaves empty on purpose: API tokens are secrets a person creates
# (`guanxi token create`), attachments are files users upload.
NOT_GENERATED = {"accounts.ApiToken", "customers.Attachment"}
DOMAIN_APPS = ("accounts", "customers", "sales", "engagement")


@pytest.fixture
def demo(db):
    generate(customers=SMALL, seed=42)


def digest() -> str:
    """A fingerprint of the data by content (not ids, which depend on what the database held before)."""
    rows = {
        "customers": Customer.objects.values_list(
            "kind", "name", "state", "phone", "email", "uscc", "province", "city", "source", "owner__username",
            "created_at", "credit_limit", "profile", "custom_fields", "customer_type"),
        "contacts": Contact.objects.values_list("customer__name", "name", "role", "phone", "email"),
        "states": StateChange.objects.values_list("customer__name", "from_state", "to_state", "reason", "reason_category", "changed_at"),
        "orders": Order.objects.values_list("number", "customer__name", "order_date", "due_date", "status", "total",
                                            "amount_paid", "owner__username"),
        "payments": Payment.objects.values_list("order__number", "amount", "paid_on", "method"),
        "interactions": apps.get_model("engagement", "Interaction").objects.values_list(
            "customer__name", "channel", "direction", "content_type", "phase", "subject", "occurred_at"),
    }
    hasher = hashlib.sha256()
    for name, queryset in rows.items():
        lines = sorted(json.dumps(row, default=str, sort_keys=True, ensure_ascii=False) for row in queryset)
        hasher.update(f"{name}:{len(lines)}\n".encode())
        for line in lines:
            hasher.update(line.encode())
    return hasher.hexdigest()


def digest_of_demo(seed: int) -> str:
    """Generate into the test database, fingerprint it, then roll it back."""
    with transaction.atomic():
        generate(customers=SMALL, seed=seed)
        result = digest()
        transaction.set_rollback(True)
    return result


def test_same_seed_gives_the_same_data(db):
    # Given two runs with the same size and seed, when each is fingerprinted, then they are identical.
    assert digest_of_demo(7) == digest_of_demo(7)


def test_another_seed_gives_other_data(db):
    assert digest_of_demo(7) != digest_of_demo(8)


def test_every_model_has_rows(demo):
    models = [m for name in DOMAIN_APPS for m in apps.get_app_config(name).get_models()]
    empty = [m._meta.label for m in models if m._meta.label not in NOT_GENERATED and not m.objects.exists()]
    assert empty == []


def test_users_exist_in_every_role(demo):
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == set(Role.values)


def test_phones_credit_codes_and_emails_pass_the_services_rules(demo):
    phones = [*Customer.objects.exclude(phone="").values_list("phone", flat=True),
              *Contact.objects.exclude(phone="").values_list("phone", flat=True)]
    assert phones and all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones)
    codes = list(Customer.objects.exclude(uscc="").values_list("uscc", flat=True))
    assert codes and all(uscc.is_valid(c) for c in codes)
    for address in Customer.objects.exclude(email="").values_list("email", flat=True):
        validate_email(address)


def test_no_two_customers_share_a_phone_email_or_credit_code(demo):
    for field in ("phone", "email", "uscc"):
        values = list(Customer.objects.exclude(**{field: ""}).values_list(field, flat=True))
        assert len(values) == len(set(values)), field


def test_profiles_are_valid_for_their_kind(demo):
    for kind, profile in Customer.objects.values_list("kind", "profile"):
        try:
            assert validate_profile(kind, profile) == profile
        except ValidationError as error:  # pragma: no cover - shows which field is wrong
            pytest.fail(f"{kind} profile invalid: {error}")


def test_names_are_bilingual(demo):
    names = list(Customer.objects.values_list("name", flat=True))
    assert any(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", n) for n in names)
    assert any(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", n) for n in names)
    assert any(n.endswith("有限公司") for n in names)


def test_what_each_order_has_been_paid_is_the_sum_of_its_payments(demo):
    paid = defaultdict(Decimal)
    for order_id, amount in Payment.objects.values_list("order_id", "amount"):
        paid[order_id] += amount
    for order_id, amount_paid in Order.objects.values_list("pk", "amount_paid"):
        assert amount_paid == paid[order_id]


def test_orders_total_their_lines(demo):
    lines = defaultdict(Decimal)
    for order_id, line_total in OrderLine.objects.values_list("order_id", "line_total"):
        lines[order_id] += line_total
    assert all(total == lines[pk] for pk, total in Order.objects.values_list("pk", "total"))


def test_some_receivables_are_overdue_and_some_partly_paid(demo):
    overdue = Order.objects.exclude(status=Order.Status.CANCELLED).filter(
        due_date__lt=DEMO_TODAY, amount_paid__lt=F("total"))
    assert overdue.exists()
    assert overdue.filter(amount_paid__gt=0).exists()


def test_state_history_is_a_chain_ending_in_the_current_state(demo):
    history = defaultdict(list)
    for customer_id, from_state, to_state, when in StateChange.objects.order_by("changed_at", "pk").values_list(
            "customer_id", "from_state", "to_state", "changed_at"):
        history[customer_id].append((from_state, to_state))
    for customer_id, state in Customer.objects.values_list("pk", "state"):
        moves = history[customer_id]
        assert moves[0][0] == ""
        assert all(prev[1] == nxt[0] for prev, nxt in zip(moves, moves[1:]))
        assert moves[-1][1] == state


def test_revenue_is_concentrated_and_customers_buy_again(demo):
    revenue = sorted(
        Order.objects.exclude(status=Order.Status.CANCELLED).values("customer").annotate(total=Sum("total"))
        .values_list("total", flat=True), reverse=True)
    top_fifth = sum(revenue[: SMALL // 5])
    assert top_fifth / sum(revenue) > Decimal("0.6")
    repeat = Order.objects.values("customer").annotate(n=Count("pk")).filter(n__gte=2).count()
    assert repeat > len(revenue) / 2
    assert Customer.objects.filter(state="lost").exists()


def test_every_lost_customer_has_a_reason_category_and_one_win_back_episode(demo):
    from guanxi.customers.models import LostReason
    from guanxi.insights.models import WinBack

    moves = StateChange.objects.filter(to_state="lost")
    assert moves.exists()
    assert set(moves.values_list("reason_category", flat=True)) <= set(LostReason.values)
    assert len(set(moves.values_list("reason_category", flat=True))) >= 3
    assert not StateChange.objects.exclude(to_state="lost").exclude(reason_category="").exists()
    assert WinBack.objects.count() == moves.count()
    assert set(WinBack.objects.values_list("lost_change_id", flat=True)) == set(moves.values_list("pk", flat=True))


def test_some_demo_losses_were_won_back_by_a_later_order_and_others_are_still_worked_on(demo):
    from guanxi.insights import services
    from guanxi.insights.models import WinBack

    won = WinBack.objects.filter(status="won_back").select_related("won_back_order", "customer", "task")
    assert won.exists() and len(set(WinBack.objects.values_list("status", flat=True))) >= 3
    assert not WinBack.objects.filter(status="given_up", note="").exists()
    for winback in won:
        assert winback.won_back_order.order_date > winback.lost_on and winback.won_back_order.status != "cancelled"
        assert winback.customer.state == "current" and winback.task.status == "done"
        assert winback.revenue_regained > 0
    assert services.refresh_winbacks(as_of=DEMO_TODAY) == {"opened": 0, "won_back": 0, "revenue_refreshed": 0}


def test_every_date_is_on_or_before_today(demo):
    end_of_today = datetime.datetime.combine(DEMO_TODAY + datetime.timedelta(days=1), datetime.time(), datetime.UTC)
    assert not Customer.objects.filter(created_at__gte=end_of_today).exists()
    assert not Order.objects.filter(order_date__gt=DEMO_TODAY).exists()
    assert not Payment.objects.filter(paid_on__gt=DEMO_TODAY).exists()


def test_demo_customers_are_found_by_chinese_fragment_and_pinyin_initials(demo):
    admin = User.objects.get(username="admin")
    customer = Customer.objects.filter(kind="person", name__regex=r"^[\u4e00-\u9fff]{3}$").order_by("pk").first()
    assert customer in search_customers(admin, customer.name[1:])
    initials = customer.search.text.split(" | ")
    assert any(customer in search_customers(admin, part) for part in initials if len(part) == 3 and part.isascii())


def test_if_empty_leaves_existing_data_alone(db):
    call_command("demo", customers=20, seed=1, verbosity=0)
    count = Customer.objects.count()
    call_command("demo", customers=20, seed=2, if_empty=True, verbosity=0)
    assert Customer.objects.count() == count


def test_without_if_empty_a_filled_database_is_refused(db):
    call_command("demo", customers=20, seed=1, verbosity=0)
    with pytest.raises(CommandError):
        call_command("demo", customers=20, seed=1, verbosity=0)
    assert Customer.objects.count() == 20


def test_users_made_before_the_demo_keep_their_password_and_own_no_demo_customers(db):
    # Given an administrator made with createsuperuser (role defaults to sales rep, no team)
    admin = User.objects.create_superuser("admin", "admin@example.com", "own-password-123")
    generate(customers=50, seed=3, password="demo-password-1")
    admin.refresh_from_db()
    assert admin.check_password("own-password-123")
    assert not Customer.objects.filter(owner=admin).exists()


def test_login_prints_a_password_that_signs_in_as_the_demo_manager(db):
    out = io.StringIO()
    call_command("demo", customers=20, seed=1, login=True, stdout=out)
    password = re.search(r"demo\s+/\s+(\S+)", out.getvalue()).group(1)
    response = Client().post("/accounts/login/", {"username": "demo", "password": password})
    assert response.status_code == 302
    assert User.objects.get(username="demo").role == Role.MANAGER


def test_order_lines_carry_the_batch_of_their_order_month(demo):
    from guanxi.sales.models import OrderLine

    lines = list(OrderLine.objects.values_list("batch", "order__order_date")[:2000])
    assert lines and all(batch == f"B{day:%Y%m}" for batch, day in lines)
