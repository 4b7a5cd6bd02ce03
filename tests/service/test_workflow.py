"""The complaint workflow: every allowed move, refusal of forbidden ones, approval rules, reopening, history."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.customers.models import CustomerEvent
from guanxi.engagement.models import Channel
from guanxi.messaging.models import OutboundEmail
from guanxi.service import services
from guanxi.service.models import Category, ComplaintStep, Status
from guanxi.service.workflow import TRANSITIONS

pytestmark = pytest.mark.django_db


def receive(agent, customer, **fields):
    return services.receive_complaint(actor=agent, customer=customer, channel=Channel.HOTLINE,
                                      description="水壶漏水", category=Category.PRODUCT_QUALITY, **fields)


def register(complaint, agent, **fields):
    form = {"caused_by": "firm", "concerns": "product", "severity": "high", "reaction": "complained",
            "desired_outcome": "换一个新的", **fields}
    return services.register_complaint(complaint=complaint, actor=agent, expected_version=complaint.version, **form)


def to_status(complaint, status, agent, manager, department):
    """Walk a complaint along the happy path until it reaches `status`."""
    steps = [
        (Status.REGISTERED, lambda c: register(c, agent)),
        (Status.ACCEPTED, lambda c: services.accept_complaint(complaint=c, actor=agent, expected_version=c.version)),
        (Status.ASSIGNED, lambda c: services.assign_department(complaint=c, actor=agent, expected_version=c.version, department=department)),
        (Status.ANALYSED, lambda c: services.analyse_cause(complaint=c, actor=agent, expected_version=c.version, cause="密封圈老化", analysis="批次问题")),
        (Status.PROPOSED, lambda c: services.propose_solution(complaint=c, actor=agent, expected_version=c.version, solution="换新并补偿", remedy_amount="800.00")),
        (Status.APPROVED, lambda c: services.approve_solution(complaint=c, actor=manager, expected_version=c.version)),
        (Status.CARRIED_OUT, lambda c: services.carry_out_solution(complaint=c, actor=agent, expected_version=c.version)),
        (Status.NOTIFIED, lambda c: services.notify_customer(complaint=c, actor=agent, expected_version=c.version)),
        (Status.RESOLVED, lambda c: services.record_customer_response(complaint=c, actor=agent, expected_version=c.version, satisfied=True, rating=5)),
        (Status.ACCOUNTED, lambda c: services.record_accountability(complaint=c, actor=agent, expected_version=c.version, responsible_person="质检员张三", measure="重新培训")),
        (Status.EVALUATED, lambda c: services.evaluate_complaint(complaint=c, actor=agent, expected_version=c.version, evaluation="处理及时")),
        (Status.ARCHIVED, lambda c: services.archive_complaint(complaint=c, actor=agent, expected_version=c.version)),
    ]
    for reached, move in steps:
        if complaint.status == status:
            return complaint
        complaint = move(complaint)
        assert complaint.status == reached
    return complaint


def test_a_complaint_walks_every_step_to_the_archive_with_who_and_when_recorded(agent, service_manager, customer, service_department):
    # Given a complaint received on the hotline
    complaint = receive(agent, customer)
    # When the agent and the manager take it through every step
    complaint = to_status(complaint, Status.ARCHIVED, agent, service_manager, service_department)
    # Then each move is in the history with its actor, in order
    steps = list(ComplaintStep.objects.filter(complaint=complaint).values_list("action", "to_status", "actor__username"))
    assert [s[0] for s in steps] == ["receive", "register", "accept", "assign_department", "analyse_cause", "propose_solution",
                                     "approve", "carry_out", "notify_customer", "customer_satisfied",
                                     "record_accountability", "evaluate", "archive"]
    assert ("approve", Status.APPROVED, "manager_zhao") in steps
    # And the customer's timeline shows the case
    summaries = list(CustomerEvent.objects.filter(customer=customer, verb="complaint").values_list("summary", flat=True))
    assert len(summaries) == len(steps)
    assert all(complaint.reference in s for s in summaries)
    assert complaint.acknowledged_at is not None and complaint.resolved_at is not None and complaint.closed_at is not None


@pytest.mark.parametrize("action", sorted(set(TRANSITIONS) - {"register"}))
def test_every_move_is_refused_from_a_state_it_does_not_start_from(action, agent, customer):
    # Given a complaint just received (only "register" may follow)
    complaint = receive(agent, customer)
    # When the move is attempted through the table's guard
    with pytest.raises(ValidationError) as error:
        services._move(complaint, action, actor=agent, expected_version=complaint.version)
    # Then it is refused naming the status, and nothing changed
    assert "status" in error.value.message_dict
    complaint.refresh_from_db()
    assert complaint.status == Status.RECEIVED


def test_archiving_an_open_complaint_is_refused(agent, customer):
    complaint = register(receive(agent, customer), agent)
    with pytest.raises(ValidationError):
        services.archive_complaint(complaint=complaint, actor=agent, expected_version=complaint.version)


def test_an_invalid_complaint_gets_a_tactful_reply_and_closes(agent, customer):
    # Given a registered complaint
    complaint = register(receive(agent, customer), agent)
    # When the agent decides it is not valid
    complaint = services.reject_complaint(complaint=complaint, actor=agent, expected_version=complaint.version,
                                          reason="该产品已超出保修期两年。")
    # Then it is closed and the customer is sent the reason
    assert complaint.status == Status.CLOSED
    reply = OutboundEmail.objects.filter(to="wangfang@example.com", template="service/email/invalid_reply").get()
    assert "该产品已超出保修期两年。" in reply.body
    # And it can still be archived with the forms
    complaint = services.archive_complaint(complaint=complaint, actor=agent, expected_version=complaint.version)
    assert complaint.status == Status.ARCHIVED


def test_a_proposal_sent_back_by_the_manager_returns_to_the_agent(agent, service_manager, customer, service_department):
    # Given a proposal waiting for approval
    complaint = to_status(receive(agent, customer), Status.PROPOSED, agent, service_manager, service_department)
    # When the manager sends it back
    complaint = services.send_back_solution(complaint=complaint, actor=service_manager, expected_version=complaint.version,
                                            reason="补偿太高")
    # Then the case is back at analysis and a new proposal can be made
    assert complaint.status == Status.ANALYSED
    complaint = services.propose_solution(complaint=complaint, actor=agent, expected_version=complaint.version,
                                          solution="换新", remedy_amount="0")
    assert complaint.status == Status.PROPOSED
    assert ComplaintStep.objects.filter(complaint=complaint, action="send_back", note="补偿太高", actor=service_manager).exists()


def test_the_agent_cannot_approve_a_remedy_above_the_on_the_spot_limit(agent, service_manager, customer, service_department, settings):
    settings.COMPLAINT_ON_THE_SPOT_LIMIT = "500.00"
    complaint = to_status(receive(agent, customer), Status.PROPOSED, agent, service_manager, service_department)  # 800.00
    with pytest.raises(PermissionDenied):
        services.approve_solution(complaint=complaint, actor=agent, expected_version=complaint.version)


def test_the_agent_approves_a_small_remedy_on_the_spot(agent, service_manager, customer, service_department, settings):
    # Given a remedy under the configured limit
    settings.COMPLAINT_ON_THE_SPOT_LIMIT = "500.00"
    complaint = to_status(receive(agent, customer), Status.ANALYSED, agent, service_manager, service_department)
    complaint = services.propose_solution(complaint=complaint, actor=agent, expected_version=complaint.version,
                                          solution="退还运费", remedy_amount=Decimal("30.00"))
    # When the agent approves it
    complaint = services.approve_solution(complaint=complaint, actor=agent, expected_version=complaint.version)
    # Then it is approved by the agent, no manager needed
    assert complaint.status == Status.APPROVED and complaint.approved_by == agent


def test_an_unsatisfied_customer_reopens_the_case(agent, service_manager, customer, service_department):
    # Given the customer has been told the solution
    complaint = to_status(receive(agent, customer), Status.NOTIFIED, agent, service_manager, service_department)
    # When they say they are not satisfied
    complaint = services.record_customer_response(complaint=complaint, actor=agent, expected_version=complaint.version,
                                                  satisfied=False, rating=2, note="还是漏水")
    # Then the case is reopened, counted, and goes back to analysis
    assert complaint.status == Status.REOPENED and complaint.reopen_count == 1
    complaint = services.analyse_cause(complaint=complaint, actor=agent, expected_version=complaint.version, cause="底座裂缝")
    assert complaint.status == Status.ANALYSED


def test_the_customer_is_told_the_solution_by_e_mail(agent, service_manager, customer, service_department):
    complaint = to_status(receive(agent, customer), Status.NOTIFIED, agent, service_manager, service_department)
    notice = OutboundEmail.objects.get(template="service/email/solution_notice")
    assert notice.to == "wangfang@example.com" and "换新并补偿" in notice.body and complaint.reference in notice.subject


def test_a_stale_version_is_refused(agent, customer):
    from guanxi.core.locking import StaleVersion

    complaint = receive(agent, customer)
    stale = complaint.version
    register(complaint, agent)
    complaint.status = Status.RECEIVED
    with pytest.raises(StaleVersion):
        services.register_complaint(complaint=complaint, actor=agent, expected_version=stale, caused_by="firm",
                                    concerns="product", reaction="silent")


def test_registration_names_the_bad_field(agent, customer):
    complaint = receive(agent, customer)
    with pytest.raises(ValidationError) as error:
        register(complaint, agent, reaction="shouting")
    assert "reaction" in error.value.message_dict


def test_a_senior_manager_takes_a_case_over(agent, service_manager, customer):
    complaint = register(receive(agent, customer), agent)
    complaint = services.take_over(complaint=complaint, actor=service_manager)
    assert complaint.handler == service_manager and complaint.taken_over_by == service_manager
    assert complaint.status == Status.REGISTERED
    with pytest.raises(PermissionDenied):
        services.take_over(complaint=complaint, actor=agent)


def test_a_sales_rep_cannot_see_a_complaint_of_another_reps_customer(other_rep, agent, customer):
    complaint = receive(agent, customer)
    from guanxi.service.models import Complaint
    with pytest.raises(Complaint.DoesNotExist):
        services.accept_complaint(complaint=complaint, actor=other_rep, expected_version=complaint.version)


def test_dissatisfaction_is_recorded_and_counted_on_the_timeline(agent, customer):
    from guanxi.service.models import Dissatisfaction

    services.record_dissatisfaction(customer=customer, actor=agent, reaction="stopped_buying", note="三个月没下单")
    assert Dissatisfaction.objects.filter(customer=customer).count() == 1
    assert CustomerEvent.objects.filter(customer=customer, verb="dissatisfaction").exists()


def test_complaints_with_the_same_product_and_cause_raise_one_defect_alert(agent, service_manager, customer, service_department, kettle, settings):
    from guanxi.service.models import DefectAlert

    # Given a threshold of 3 complaints within 30 days
    settings.DEFECT_ALERT_COMPLAINTS, settings.DEFECT_ALERT_WINDOW_DAYS = 3, 30
    # When four complaints about the kettle are analysed with the same cause (typed differently)
    for cause in ["密封圈老化", "密封圈老化 ", "密封圈老化", "密封圈老化"]:
        complaint = to_status(receive(agent, customer, product=kettle), Status.ASSIGNED, agent, service_manager, service_department)
        services.analyse_cause(complaint=complaint, actor=agent, expected_version=complaint.version, cause=cause)
    # Then exactly one alert is open, counting all four
    alert = DefectAlert.objects.get()
    assert alert.is_open and alert.complaint_count == 4 and alert.product == kettle


def test_a_complaint_links_to_a_product_idea(agent, customer):
    complaint = receive(agent, customer)
    item = services.link_backlog_item(complaint=complaint, actor=agent, title="带防干烧的水壶", kind="product_idea")
    complaint.refresh_from_db()
    assert complaint.backlog_item == item and item.complaints.count() == 1
