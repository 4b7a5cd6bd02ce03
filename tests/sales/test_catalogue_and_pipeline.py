"""Products (margin, one-off, replacement cycle) and the configurable pipeline with opportunities."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from guanxi.core.locking import StaleVersion
from guanxi.customers.models import CustomerEvent
from guanxi.sales import services
from guanxi.sales.models import PipelineStage

D = Decimal


def test_product_margin_is_list_price_minus_cost(kettle):
    assert kettle.margin == kettle.list_price - kettle.cost
    assert kettle.margin_rate == (kettle.margin / kettle.list_price).quantize(D("0.0001"))


def test_a_product_update_on_a_stale_version_is_refused(admin_user, tea):
    services.update_product(product=tea, actor=admin_user, expected_version=tea.version, list_price=D("110.00"))

    with pytest.raises(StaleVersion) as error:
        services.update_product(product=tea, actor=admin_user, expected_version=1, name="新名字")
    assert error.value.current.list_price == D("110.00")


def test_a_one_off_product_has_no_replacement_cycle(admin_user):
    with pytest.raises(ValidationError) as error:
        services.create_product(actor=admin_user, sku="WED-1", name="婚礼策划", list_price=D("9999.00"),
                                is_one_off=True, replacement_cycle_days=365)
    assert "replacement_cycle_days" in error.value.message_dict


def test_a_duplicate_sku_is_refused(admin_user, tea):
    with pytest.raises(ValidationError) as error:
        services.create_product(actor=admin_user, sku=tea.sku, name="另一个", list_price=D("1.00"))
    assert "sku" in error.value.message_dict


def test_sales_reps_cannot_change_the_catalogue(rep):
    with pytest.raises(PermissionDenied):
        services.create_product(actor=rep, sku="X-1", name="X", list_price=D("1.00"))


def test_stages_can_be_added_renamed_and_reordered(admin_user, stages):
    demo = services.create_stage(actor=admin_user, name="Demo", probability=40)
    services.update_stage(stage=demo, actor=admin_user, name="产品演示")
    wanted = [stages["Lead"].pk, demo.pk, *[s.pk for s in PipelineStage.objects.exclude(pk__in=[stages["Lead"].pk, demo.pk]).order_by("position")]]

    ordered = services.reorder_stages(actor=admin_user, stage_ids=wanted)

    assert [s.pk for s in ordered] == wanted
    assert ordered[1].name == "产品演示"


def test_a_stage_in_use_cannot_be_deleted_but_an_unused_one_can(admin_user, rep, customer, stages):
    services.create_opportunity(customer=customer, title="年度采购", actor=rep, stage=stages["Proposal"])

    with pytest.raises(ValidationError):
        services.delete_stage(stage=stages["Proposal"], actor=admin_user)
    services.delete_stage(stage=stages["Qualified"], actor=admin_user)

    assert PipelineStage.objects.filter(pk=stages["Proposal"].pk).exists()
    assert not PipelineStage.objects.filter(pk=stages["Qualified"].pk).exists()


def test_a_new_opportunity_takes_the_first_stage_and_its_probability(rep, customer, stages):
    opportunity = services.create_opportunity(customer=customer, title="年度采购", actor=rep, amount=D("50000.00"))

    assert opportunity.stage == stages["Lead"]
    assert opportunity.probability == stages["Lead"].probability
    assert opportunity.closed_at is None


def test_moving_takes_the_stage_probability_unless_one_is_given(rep, customer, stages):
    opportunity = services.create_opportunity(customer=customer, title="年度采购", actor=rep)

    services.move_opportunity(opportunity=opportunity, to_stage=stages["Proposal"], actor=rep, expected_version=opportunity.version)
    assert opportunity.probability == stages["Proposal"].probability
    services.move_opportunity(opportunity=opportunity, to_stage=stages["Negotiation"], actor=rep, expected_version=opportunity.version, probability=60)
    assert opportunity.probability == 60


def test_winning_closes_the_opportunity_and_records_it(rep, customer, stages):
    opportunity = services.create_opportunity(customer=customer, title="年度采购", actor=rep)

    services.move_opportunity(opportunity=opportunity, to_stage=stages["Won"], actor=rep, expected_version=opportunity.version)

    opportunity.refresh_from_db()
    assert opportunity.closed_at is not None and opportunity.closed_at <= timezone.now()
    assert opportunity.probability == 100
    assert CustomerEvent.objects.filter(customer=customer, verb="opportunity_moved", actor=rep).exists()


def test_losing_needs_a_reason(rep, customer, stages):
    opportunity = services.create_opportunity(customer=customer, title="年度采购", actor=rep)

    with pytest.raises(ValidationError) as error:
        services.move_opportunity(opportunity=opportunity, to_stage=stages["Lost"], actor=rep, expected_version=opportunity.version)
    assert "lost_reason" in error.value.message_dict


def test_a_lost_opportunity_can_be_reopened(rep, customer, stages):
    opportunity = services.create_opportunity(customer=customer, title="年度采购", actor=rep)
    services.move_opportunity(opportunity=opportunity, to_stage=stages["Lost"], actor=rep, expected_version=opportunity.version, lost_reason="价格太高")
    assert opportunity.closed_at is not None and opportunity.lost_reason == "价格太高"

    services.move_opportunity(opportunity=opportunity, to_stage=stages["Negotiation"], actor=rep, expected_version=opportunity.version)

    opportunity.refresh_from_db()
    assert opportunity.closed_at is None
    assert opportunity.lost_reason == ""


def test_a_move_from_a_stale_copy_is_refused(rep, customer, stages):
    opportunity = services.create_opportunity(customer=customer, title="年度采购", actor=rep)
    stale_version = opportunity.version
    services.update_opportunity(opportunity=opportunity, actor=rep, expected_version=stale_version, amount=D("800.00"))

    with pytest.raises(StaleVersion):
        services.move_opportunity(opportunity=opportunity, to_stage=stages["Won"], actor=rep, expected_version=stale_version)


def test_an_opportunity_cannot_be_created_lost_without_a_reason(rep, customer, stages):
    with pytest.raises(ValidationError) as error:
        services.create_opportunity(customer=customer, title="年度采购", actor=rep, stage=stages["Lost"])
    assert "stage" in error.value.message_dict
