"""The pipeline in a real browser: drag a card, move one by keyboard, the lost reason, a conflict; screenshots."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from guanxi.accounts.models import Role, User
from guanxi.sales import services as sales
from guanxi.sales.models import Opportunity, PipelineStage
from tests.e2e.conftest import DESKTOP, PHONE
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.e2e


@pytest.fixture
def rep(transactional_db):
    return make_user(Role.SALES, username="rep_pipeline")


@pytest.fixture
def deal(rep):
    customer = make_customer(rep, name="李明华")
    return sales.create_opportunity(customer=customer, title="茶礼团购", actor=rep, amount=Decimal("12000.00"))


def _stage(name):
    return PipelineStage.objects.get(name=name)


def _column(page, name):
    return page.locator(f'ul.deals[data-stage="{_stage(name).pk}"]')


def _drag(page, card, target):
    """A real pointer drag: press on the card, move in steps (SortableJS follows the pointer), release."""
    card.scroll_into_view_if_needed()
    start = card.bounding_box()
    end = target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 10)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 10, start["y"] + 20, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 20, steps=20)
    page.mouse.up()


def test_dragging_a_card_to_the_next_stage_moves_the_opportunity(open_page, rep, deal):
    page = open_page(rep)
    page.goto("/pipeline/")
    card = page.locator(f'[data-deal="{deal.pk}"]')
    expect(_column(page, "Lead").locator(f'[data-deal="{deal.pk}"]')).to_be_visible()
    # When the rep drags the card onto the Qualified column
    _drag(page, card, _column(page, "Qualified"))
    # Then the board says so, the card sits in Qualified, and the database agrees
    expect(page.locator("#pipeline-status")).to_contain_text("Moved “茶礼团购”")
    expect(_column(page, "Qualified").locator(f'[data-deal="{deal.pk}"]')).to_be_visible()
    deal.refresh_from_db()
    assert deal.stage.name == "Qualified"


def test_moving_a_card_by_keyboard_with_its_stage_menu(open_page, rep, deal):
    page = open_page(rep)
    page.goto("/pipeline/")
    menu = page.get_by_label("Stage of “茶礼团购”")
    # When the rep focuses the card's stage menu, picks the next stage with the arrow key and presses Move
    menu.focus()
    page.keyboard.press("ArrowDown")
    expect(menu).to_have_value(str(_stage("Qualified").pk))
    page.keyboard.press("Tab")
    expect(page.locator(f'[data-deal="{deal.pk}"] button')).to_be_focused()
    page.keyboard.press("Enter")
    # Then the move is announced, focus stays on the card's menu, and the database agrees
    expect(page.locator("#pipeline-status")).to_contain_text("Moved “茶礼团购” to Qualified")
    expect(_column(page, "Qualified").locator(f'[data-deal="{deal.pk}"]')).to_be_visible()
    expect(page.get_by_label("Stage of “茶礼团购”")).to_be_focused()
    deal.refresh_from_db()
    assert deal.stage.name == "Qualified"


def test_dropping_on_lost_asks_why_and_cancelling_puts_the_card_back(open_page, rep, deal):
    page = open_page(rep)
    page.goto("/pipeline/")
    _drag(page, page.locator(f'[data-deal="{deal.pk}"]'), _column(page, "Lost"))
    dialog = page.locator("dialog#modal")
    expect(dialog.get_by_label("Lost reason")).to_be_visible()
    # When they cancel, the card goes back to where the database says it is
    dialog.get_by_role("button", name="Cancel").click()
    expect(_column(page, "Lead").locator(f'[data-deal="{deal.pk}"]')).to_be_visible()
    # When they try again and give a reason, the deal is lost and leaves the board
    _drag(page, page.locator(f'[data-deal="{deal.pk}"]'), _column(page, "Lost"))
    dialog.get_by_label("Lost reason").fill("预算取消")
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(page.locator(f'[data-deal="{deal.pk}"]')).to_have_count(0)
    expect(dialog).not_to_be_visible()
    deal.refresh_from_db()
    assert deal.stage.is_lost and deal.lost_reason == "预算取消"


def test_choosing_lost_in_the_stage_menu_asks_why_and_cancelling_resets_the_menu(open_page, rep, deal):
    page = open_page(rep)
    page.goto("/pipeline/")
    page.get_by_label("Stage of “茶礼团购”").select_option(label="Lost")
    page.locator(f'[data-deal="{deal.pk}"]').get_by_role("button", name="Move").click()
    dialog = page.locator("dialog#modal")
    expect(dialog.get_by_label("Lost reason")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
    expect(page.get_by_label("Stage of “茶礼团购”")).to_have_value(str(_stage("Lead").pk))
    assert Opportunity.objects.get(pk=deal.pk).closed_at is None


def test_a_move_after_someone_else_moved_the_card_is_refused_and_the_card_reloaded(open_page, rep, deal, watch):
    page = open_page(rep)
    page.goto("/pipeline/")
    # Given someone else moves the deal to Proposal after the page loaded
    sales.move_opportunity(opportunity=Opportunity.objects.get(pk=deal.pk), to_stage=_stage("Proposal"), actor=rep, expected_version=deal.version)
    watch.expect_status(409)
    # When the rep drags the stale card to Qualified
    _drag(page, page.locator(f'[data-deal="{deal.pk}"]'), _column(page, "Qualified"))
    # Then they are told, and the card shows where it really is
    expect(page.locator("#pipeline-status")).to_contain_text("Someone else changed “茶礼团购” first")
    expect(_column(page, "Proposal").locator(f'[data-deal="{deal.pk}"]')).to_be_visible()
    assert Opportunity.objects.get(pk=deal.pk).stage.name == "Proposal"


LANGUAGES = {"en": "en-GB", "zh-hans": "zh-CN"}
DEVICES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def demo_user(transactional_db):
    call_command("demo", customers=120, seed=7, verbosity=0)
    return User.objects.get(username="demo")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("device", DEVICES)
def test_screenshots_of_the_dashboard_and_pipeline(open_page, screenshot, demo_user, language, device):
    demo_user.language = language
    demo_user.save(update_fields=["language"])
    page = open_page(demo_user, viewport=DEVICES[device], locale=LANGUAGES[language])
    page.goto("/")
    expect(page.locator("[data-chart][data-drawn]")).to_have_count(4)
    screenshot(page, "dashboard", language, device)
    page.goto("/pipeline/")
    expect(page.locator(".deal").first).to_be_visible()
    screenshot(page, "pipeline", language, device)
