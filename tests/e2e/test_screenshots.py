"""Screenshots of the main screens (desktop and phone, English and Chinese) for docs/screenshots/.

They are written on every e2e run; look at them after a UI change (CJK glyphs, overlaps,
untranslated text) and commit them.
"""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from guanxi.accounts.models import User
from guanxi.customers.models import Customer
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.e2e

LANGUAGES = {"en": "en-GB", "zh-hans": "zh-CN"}
DEVICES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def demo_data(transactional_db):
    call_command("demo", customers=120, seed=7, verbosity=0)
    user = User.objects.get(username="demo")
    customer = (
        Customer.objects.filter(owner__team=user.team, interactions__isnull=False, orders__isnull=False)
        .order_by("pk").first()
    )
    return user, customer


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("device", DEVICES)
def test_screenshots_of_dashboard_customer_list_and_360_page(open_page, screenshot, demo_data, language, device):
    user, customer = demo_data
    user.language = language
    user.save(update_fields=["language"])
    page = open_page(user, viewport=DEVICES[device], locale=LANGUAGES[language])
    page.goto("/")
    expect(page.locator("h1")).to_be_visible()
    screenshot(page, "dashboard", language, device)
    page.goto("/customers/")
    expect(page.locator("table.list")).to_be_visible()
    screenshot(page, "customer-list", language, device)
    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator("#timeline li").first).to_be_visible()
    screenshot(page, "customer-360", language, device)
