"""The complaint workflow in one table (seed 001's flowchart, DOMAIN.md §6).

received → registered → valid? (no: tactful reply, closed) → department assigned → cause
analysed → solution proposed → approved (or sent back) → carried out → customer notified →
satisfied (or reopened) → accountability recorded → evaluated → archived.

Services look every move up here; a move that is not in the table is refused.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from guanxi.service.models import Status


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset
    target: str
    label: str


def _t(action: str, sources: set, target: str, label) -> tuple[str, Transition]:
    return action, Transition(action, frozenset(sources), target, label)


TRANSITIONS: dict[str, Transition] = dict([
    _t("register", {Status.RECEIVED}, Status.REGISTERED, _("Register")),
    _t("accept", {Status.REGISTERED}, Status.ACCEPTED, _("Accept as valid")),
    _t("reject", {Status.REGISTERED}, Status.CLOSED, _("Not valid: reply and close")),
    _t("assign_department", {Status.ACCEPTED}, Status.ASSIGNED, _("Assign department")),
    _t("analyse_cause", {Status.ASSIGNED, Status.REOPENED}, Status.ANALYSED, _("Record cause")),
    _t("propose_solution", {Status.ANALYSED}, Status.PROPOSED, _("Propose solution")),
    _t("approve", {Status.PROPOSED}, Status.APPROVED, _("Approve")),
    _t("send_back", {Status.PROPOSED}, Status.ANALYSED, _("Send back")),
    _t("carry_out", {Status.APPROVED}, Status.CARRIED_OUT, _("Mark carried out")),
    _t("notify_customer", {Status.CARRIED_OUT}, Status.NOTIFIED, _("Notify customer")),
    _t("customer_satisfied", {Status.NOTIFIED}, Status.RESOLVED, _("Customer is satisfied")),
    _t("customer_unsatisfied", {Status.NOTIFIED}, Status.REOPENED, _("Customer is not satisfied: reopen")),
    _t("record_accountability", {Status.RESOLVED}, Status.ACCOUNTED, _("Record accountability")),
    _t("evaluate", {Status.ACCOUNTED}, Status.EVALUATED, _("Evaluate")),
    _t("archive", {Status.EVALUATED, Status.CLOSED}, Status.ARCHIVED, _("Archive")),
])

FINISHED_STATUSES = frozenset({Status.CLOSED, Status.ARCHIVED})
OPEN_STATUSES = frozenset(Status.values) - FINISHED_STATUSES
# Before these, the customer still waits for a resolution (the resolution deadline runs).
RESOLVED_STATUSES = frozenset({Status.RESOLVED, Status.ACCOUNTED, Status.EVALUATED, Status.CLOSED, Status.ARCHIVED})
UNRESOLVED_STATUSES = frozenset(Status.values) - RESOLVED_STATUSES
UNACKNOWLEDGED_STATUSES = frozenset({Status.RECEIVED})


def allowed_actions(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]


def can(action: str, status: str) -> bool:
    transition = TRANSITIONS.get(action)
    return transition is not None and status in transition.sources


# IANA (Identify, Assess, Negotiate, Action): what the agent should be doing at each step.
IANA = {
    Status.RECEIVED: ("identify", _("Listen without interrupting, thank the customer, restate the problem in their words and write down the facts.")),
    Status.REGISTERED: ("identify", _("Is this a real complaint about us? Check the order, the product and what was promised.")),
    Status.ACCEPTED: ("assess", _("Who owns this? Hand it to the department that can fix the cause, not just the symptom.")),
    Status.ASSIGNED: ("assess", _("Find the root cause. Was it the product or the service, the firm or the customer?")),
    Status.REOPENED: ("assess", _("The customer was not satisfied. Ask what is still wrong before proposing anything new.")),
    Status.ANALYSED: ("negotiate", _("Propose what the customer asked for where you can. Small remedies you may approve yourself.")),
    Status.PROPOSED: ("negotiate", _("The manager decides; if sent back, rework the proposal with the customer's wishes in mind.")),
    Status.APPROVED: ("action", _("Carry the solution out now, as promised — speed matters more than anything else.")),
    Status.CARRIED_OUT: ("action", _("Tell the customer what was done and ask whether they are satisfied.")),
    Status.NOTIFIED: ("action", _("Record the customer's answer; an unsatisfied customer reopens the case.")),
    Status.RESOLVED: ("action", _("Hold the responsible person to account so it does not happen again.")),
    Status.ACCOUNTED: ("action", _("Review the case: what did we learn, what should change?")),
    Status.EVALUATED: ("action", _("Archive the case with its forms.")),
}
IANA_LABELS = {"identify": _("Identify"), "assess": _("Assess"), "negotiate": _("Negotiate"), "action": _("Action")}
