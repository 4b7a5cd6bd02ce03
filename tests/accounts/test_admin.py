"""Offboarding from the admin: pick a successor, run the action."""

from django.urls import reverse

from guanxi.accounts.models import User
from guanxi.customers.models import Customer
from tests.factories import make_customer


def test_offboard_action_moves_customers_to_the_chosen_successor(client, admin_user, rep, other_rep):
    make_customer(rep, name="李明华")
    client.force_login(admin_user)

    response = client.post(reverse("admin:accounts_user_changelist"), {
        "action": "offboard", "_selected_action": [rep.pk], "to_user": other_rep.pk,
    })

    assert response.status_code == 302
    assert not User.objects.get(pk=rep.pk).is_active
    assert Customer.objects.get(name="李明华").owner == other_rep


def test_offboard_action_without_a_successor_changes_nothing(client, admin_user, rep):
    make_customer(rep)
    client.force_login(admin_user)
    client.post(reverse("admin:accounts_user_changelist"), {"action": "offboard", "_selected_action": [rep.pk]})
    assert User.objects.get(pk=rep.pk).is_active
