"""Every write of the insights app: scoring runs, warnings, policies and exports.

Each function is keyword-only, validates, writes inside transaction.atomic() and records who
did it. Scoring writes its rows in 5,000-row transactions and becomes current in one tiny
transaction at the end (DESIGN.md pitfall 10).
"""

import csv
import dataclasses
import datetime
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from guanxi.accounts.models import Role, User
from guanxi.core.visibility import is_read_only
from guanxi.customers.models import Customer
from guanxi.insights import scoring
from guanxi.insights.models import CustomerScore, Grade, GradeHistory, ScoringRun, SpendTier, Warning

BATCH = 5_000
KEEP_RUNS = 3  # runs whose scores are kept (the current one and two before, for comparisons)
STALE_AFTER = datetime.timedelta(minutes=10)  # a run silent this long is presumed killed
PROGRESS_EVERY = 1.0  # seconds between progress writes (DESIGN.md pitfall 1)

Progress = Callable[[str, int, int], None]  # (phase, done, total)


def may_run_scoring(user: User | None) -> bool:
    return user is None or (user.is_active and (user.is_superuser or user.role in (Role.ADMIN, Role.MANAGER)))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_is_dead(run: ScoringRun, now: datetime.datetime | None = None) -> bool:
    """A RUNNING run whose process is gone (same host) or that has been silent for STALE_AFTER."""
    now = now or timezone.now()
    if run.status != ScoringRun.Status.RUNNING:
        return False
    if run.heartbeat_at < now - STALE_AFTER:
        return True
    return bool(run.pid and run.host == socket.gethostname() and not _process_alive(run.pid))


def clean_up_dead_runs(now: datetime.datetime | None = None) -> int:
    """Mark killed runs failed and delete their partial scores; returns how many were cleaned."""
    cleaned = 0
    for run in ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING):
        if not run_is_dead(run, now):
            continue
        with transaction.atomic():
            updated = ScoringRun.objects.filter(pk=run.pk, status=ScoringRun.Status.RUNNING).update(
                status=ScoringRun.Status.FAILED, finished_at=timezone.now(), error="interrupted (process gone)",
            )
            if updated:
                CustomerScore.objects.filter(run_id=run.pk).delete()
                GradeHistory.objects.filter(run_id=run.pk).delete()
                cleaned += 1
    return cleaned


def start_scoring_run(*, as_of: datetime.date | None = None, actor: User | None = None,
                      parameters: dict | None = None) -> ScoringRun:
    """Claim a new run: refuses while another live run is going; killed runs are cleaned up first."""
    if not may_run_scoring(actor):
        raise PermissionDenied(_("Only managers and administrators run scoring."))
    as_of = as_of or timezone.localdate()
    params = {**scoring.DEFAULT_PARAMETERS, **(parameters or {})}
    unknown = set(parameters or {}) - set(scoring.DEFAULT_PARAMETERS)
    if unknown:
        raise ValidationError({"parameters": _("Unknown parameter(s): %(names)s") % {"names": ", ".join(sorted(unknown))}})
    clean_up_dead_runs()
    with transaction.atomic():
        if ScoringRun.objects.select_for_update().filter(status=ScoringRun.Status.RUNNING).exists():
            raise ValidationError({"status": _("A scoring run is already in progress.")}, code="running")
        return ScoringRun.objects.create(
            as_of=as_of, parameters=params, started_by=actor, host=socket.gethostname()[:255], pid=os.getpid(),
            phase=_("Starting"),
        )


class _Reporter:
    """Progress to the caller on every step, to the run's row at most once a second."""

    def __init__(self, run: ScoringRun, callback: Progress | None):
        self.run, self.callback, self.last = run, callback, 0.0

    def __call__(self, phase: str, done: int, total: int, *, percent: int, force: bool = False) -> None:
        if self.callback:
            self.callback(phase, done, total)
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_EVERY:
            self.last = now
            ScoringRun.objects.filter(pk=self.run.pk).update(progress=percent, phase=phase[:50], heartbeat_at=timezone.now())


def _money(value: float | None) -> Decimal | None:
    if value is None or not np.isfinite(value):
        return None
    return Decimal(repr(round(float(value), 2))).quantize(scoring.CENT)


SCORE_COLUMNS = (
    "run_id", "customer_id", "recency_score", "frequency_score", "monetary_score", "rfm_cell", "value_segment",
    "behaviour_segment", "grade", "stage", "spend_tier", "orders", "revenue", "margin", "cost_to_serve", "profit",
    "spend_12m", "first_order_on", "last_order_on", "frequency", "recency_days", "age_days", "p_alive",
    "expected_purchases_90d", "clv",
)
CUSTOMER, GRADE = SCORE_COLUMNS.index("customer_id"), SCORE_COLUMNS.index("grade")
HISTORY_COLUMNS = ("customer_id", "from_grade", "grade", "run_id", "on")


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """COPY on PostgreSQL, one prepared INSERT for many rows elsewhere: bulk_create splits 5,000 wide
    rows into hundreds of statements under SQLite's parameter limit, and builds an instance per row."""
    if not rows:
        return
    names = [model._meta.get_field(c.removesuffix("_id")).column for c in columns]
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(n) for n in names)}) "
           f"VALUES ({', '.join(['%s'] * len(names))})")
    if connection.vendor == "postgresql":  # COPY: one stream instead of a round trip per row
        table = quote(model._meta.db_table)
        with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {table} ({', '.join(quote(n) for n in names)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        return
    if connection.vendor == "sqlite":  # the sqlite3 driver wants text for dates and decimals
        rows = [tuple(v.isoformat() if isinstance(v, datetime.date) else str(v) if isinstance(v, Decimal) else v
                      for v in row) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _score_rows(run: ScoringRun, scores: scoring.Scores, start: int, stop: int) -> list[tuple]:
    """CustomerScore rows (SCORE_COLUMNS order) for customers start..stop."""
    t, r, c = scores.totals, scores.rfm, scores.clv
    cents, day = scoring.from_cents, scoring.from_day_number
    rows = []
    for i in range(start, stop):
        j = int(scores.clv_index[i])
        has = c is not None and j >= 0
        rows.append((
            run.pk, int(t.customer_ids[i]), int(r.recency[i]), int(r.frequency[i]), int(r.monetary[i]), int(r.cell[i]),
            str(scores.value_segment[i]), str(scores.behaviour_segment[i]), str(scores.grade[i]), str(scores.stage[i]),
            str(scores.spend_tier[i]), int(t.orders[i]), cents(t.revenue_cents[i]), cents(t.margin_cents[i]),
            cents(t.expense_cents[i]), cents(t.margin_cents[i] - t.expense_cents[i]), cents(t.spend_12m_cents[i]),
            day(t.first_day[i]), day(t.last_day[i]),
            int(c.frequency[j]) if has else None,
            float(c.recency[j]) if has else None,
            float(c.T[j]) if has else None,
            float(c.p_alive[j]) if has and c.p_alive is not None else None,
            float(c.expected_purchases[j]) if has and c.expected_purchases is not None else None,
            _money(c.clv[j]) if has and c.clv is not None else None,
        ))
    return rows


def run_scoring(*, as_of: datetime.date | None = None, actor: User | None = None,
                progress: Progress | None = None, run: ScoringRun | None = None,
                parameters: dict | None = None) -> ScoringRun:
    """Score every customer with a billed order and make the run current.

    A run killed part-way leaves the previous run current; its partial rows are deleted by the
    next run. `run` continues a run claimed by start_scoring_run (the API claims, a task scores).
    """
    if run is None:
        run = start_scoring_run(as_of=as_of, actor=actor, parameters=parameters)
    elif not ScoringRun.objects.filter(pk=run.pk, status=ScoringRun.Status.RUNNING).update(
        host=socket.gethostname()[:255], pid=os.getpid(), heartbeat_at=timezone.now()
    ):
        raise ValidationError({"status": _("This scoring run is no longer running.")})
    report = _Reporter(run, progress)
    try:
        return _score(run, report)
    except Exception as exc:
        ScoringRun.objects.filter(pk=run.pk).update(
            status=ScoringRun.Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:5000],
        )
        CustomerScore.objects.filter(run_id=run.pk).delete()
        GradeHistory.objects.filter(run_id=run.pk).delete()
        raise


def _score(run: ScoringRun, report: _Reporter) -> ScoringRun:
    params, as_of = run.parameters, run.as_of
    report(_("Reading orders"), 0, 1, percent=1, force=True)
    log = scoring.load_order_log(as_of, bad_debt_days=params["bad_debt_days"])
    totals = scoring.customer_totals(log, as_of)
    n = len(totals.customer_ids)
    report(_("Fitting models"), 0, n, percent=20, force=True)
    tiers = list(SpendTier.objects.order_by("-min_annual_spend").values_list("key", "min_annual_spend"))
    scores = scoring.compute(totals, log, as_of, params, tiers) if n else None
    previous = ScoringRun.objects.filter(is_current=True).first()
    old_grades = dict(previous.scores.values_list("customer_id", "grade").iterator(chunk_size=10_000)) if previous else {}
    for start in range(0, n, BATCH):
        stop = min(start + BATCH, n)
        rows = _score_rows(run, scores, start, stop)
        moves = [(row[CUSTOMER], old_grades.get(row[CUSTOMER], ""), row[GRADE], run.pk, as_of)
                 for row in rows if old_grades.get(row[CUSTOMER]) != row[GRADE]]
        with transaction.atomic():
            _insert(CustomerScore, SCORE_COLUMNS, rows)
            _insert(GradeHistory, HISTORY_COLUMNS, moves)
        report(_("Writing scores"), stop, n, percent=30 + int(69 * stop / n))
    fitted = scores.clv.fitted if scores is not None and scores.clv is not None else {"skipped": "no repeatable purchases"}
    with transaction.atomic():
        ScoringRun.objects.filter(is_current=True).update(is_current=False)
        ScoringRun.objects.filter(pk=run.pk).update(
            status=ScoringRun.Status.DONE, is_current=True, progress=100, phase=_("Done"), customers=n,
            finished_at=timezone.now(), heartbeat_at=timezone.now(), parameters={**params, "fitted": fitted},
        )
        if previous is not None:
            _open_policy_tasks(run)
    report(_("Done"), n, n, percent=100)
    _prune_old_runs()
    run.refresh_from_db()
    return run


def _open_policy_tasks(run: ScoringRun) -> int:
    """A customer who moved into a grade whose service policy names a task (DOMAIN.md §4: "key — an
    account manager"; "bad — collect first") gets that task, for their owner, once per move: the run's
    grade moves are written once, and this runs in the transaction that makes the run current. The
    first run ever grades everybody and opens nothing — the contact-overdue warnings take it from there."""
    from guanxi.customers.models import UpgradePotential
    from guanxi.engagement.models import Task
    from guanxi.insights.models import ServicePolicy

    policies = {(p.grade, p.with_potential): p for p in ServicePolicy.objects.exclude(task_title="")}
    if not policies:
        return 0
    moves = (GradeHistory.objects.filter(run=run, grade__in={g for g, _w in policies},
                                         customer__owner__is_active=True)
             .values_list("customer_id", "customer__owner_id", "grade", "from_grade", "customer__upgrade_potential"))
    due = timezone.now() + datetime.timedelta(days=7)
    tasks = []
    for customer_id, owner_id, grade, from_grade, potential in moves.iterator(chunk_size=BATCH):
        policy = policies.get((grade, potential != UpgradePotential.NONE))
        if policy is None:
            continue
        moved = (_("Grade changed from %(old)s to %(new)s.") % {"old": Grade(from_grade).label, "new": Grade(grade).label}
                 if from_grade else _("First graded: %(new)s.") % {"new": Grade(grade).label})
        tasks.append(Task(title=policy.task_title[:200], customer_id=customer_id, assignee_id=owner_id,
                          created_by_id=owner_id, due_at=due,
                          description=f"{policy.name}\n{policy.actions}\n{moved}".strip()))
    for start in range(0, len(tasks), BATCH):
        Task.objects.bulk_create(tasks[start:start + BATCH])
    return len(tasks)


def _prune_old_runs() -> None:
    """Keep the scores of the last KEEP_RUNS finished runs; older runs keep their row and grade moves."""
    keep = list(ScoringRun.objects.filter(status=ScoringRun.Status.DONE).order_by("-finished_at", "-id")
                .values_list("pk", flat=True)[:KEEP_RUNS])
    old = ScoringRun.objects.filter(status=ScoringRun.Status.DONE).exclude(pk__in=keep).values_list("pk", flat=True)
    CustomerScore.objects.filter(run_id__in=list(old)).delete()


# --- Early warnings -------------------------------------------------------------------------------


# Warnings that name an action become a task for their assignee (the issue: "the warning opens a
# collection task"); each rule's "task" parameter switches it (defaults.DEFAULT_RULE_PARAMETERS).
WARNING_TASKS = {
    "credit_limit": (_lazy("Collect the receivable (over the credit limit)"), 3),
    "churn_risk": (_lazy("Call the customer: churn risk"), 7),
    "lost": (_lazy("Win-back: find out why the customer left"), 7),
    "replacement_due": (_lazy("Offer a replacement"), 14),
    "contact_overdue": (_lazy("Get in touch (service policy)"), 7),
}


def evaluate_warnings(*, as_of: datetime.date | None = None, kinds: list[str] | None = None) -> dict[str, int]:
    """Run the enabled evaluators; new warnings are inserted once (the (kind, key) constraint makes
    reruns no-ops) and those that name an action open a task for the assignee. Returns how many new
    warnings each kind raised."""
    from guanxi.insights.early_warnings import EVALUATORS, rule_parameters

    as_of = as_of or timezone.localdate()
    raised = {}
    for kind, evaluate in EVALUATORS.items():
        if kinds is not None and kind not in kinds:
            continue
        params = rule_parameters(kind)
        if params is None:
            continue
        found = evaluate(as_of, params)
        new_keys = []
        for start in range(0, len(found), BATCH):
            chunk = found[start:start + BATCH]
            with transaction.atomic():
                known = set(Warning.objects.filter(kind=kind, key__in=[w.key for w in chunk]).values_list("key", flat=True))
                Warning.objects.bulk_create(chunk, ignore_conflicts=True)
            new_keys += [w.key for w in chunk if w.key not in known]
        raised[str(kind)] = len(new_keys)
        if kind in WARNING_TASKS and params.get("task", False):
            _open_tasks(kind, new_keys)
    return raised


def _open_tasks(kind: str, keys: list[str]) -> None:
    from guanxi.engagement.services import create_task

    title, days = WARNING_TASKS[kind]
    for start in range(0, len(keys), BATCH):
        warnings = (Warning.objects.filter(kind=kind, key__in=keys[start:start + BATCH], assignee__isnull=False,
                                           customer__isnull=False).select_related("customer", "assignee"))
        for warning in warnings:
            if not warning.assignee.is_active:
                continue
            if kind == "lost":
                _start_winback_for(warning)  # the win-back task is the episode's own, not a second one
                continue
            # The assignee files it: the system has no user of its own, and the owner may act on the customer.
            create_task(title=str(title), actor=warning.assignee, assignee=warning.assignee, customer=warning.customer,
                        due_at=timezone.now() + datetime.timedelta(days=days),
                        description=f"{warning.message}\n{warning.suggestion}\n(#{warning.pk})")


def _start_winback_for(warning: Warning) -> None:
    """A "lost" warning (key c<customer>:lost:<state change>) starts that episode's win-back for the
    owner, unless someone started or closed it already."""
    from guanxi.insights.models import WinBack

    winback = (WinBack.objects.filter(lost_change_id=int(warning.key.rsplit(":", 1)[-1]), status=WinBack.Status.OPEN)
               .select_related("customer", "owner", "lost_change").first())
    if winback is None:
        return
    try:
        start_winback(winback=winback, actor=warning.assignee)
    except (ValidationError, PermissionDenied, WinBack.DoesNotExist):
        pass  # started meanwhile, or the owner no longer sees the customer: the lost page still lists it


def evaluate_credit_warning(*, customer_id: int, as_of: datetime.date | None = None) -> Warning | None:
    """The credit-limit rule for one customer, live after an order or a payment is saved: the same
    evaluator and key as the nightly run (so neither duplicates the other), the collection task when
    the rule asks for it; and when receivables are back at or under the limit, the open credit
    warnings resolve with a system note. Returns the warning raised now, if any."""
    from guanxi.insights.early_warnings import credit_limit, rule_parameters
    from guanxi.insights.models import WarningKind

    params = rule_parameters(WarningKind.CREDIT_LIMIT)
    if params is None:
        return None
    found = credit_limit(as_of or timezone.localdate(), params, Customer.objects.filter(pk=customer_id))
    if not found:
        still_open = Warning.objects.filter(kind=WarningKind.CREDIT_LIMIT, customer_id=customer_id).exclude(status=Warning.Status.RESOLVED)
        line = f"[{timezone.localtime():%Y-%m-%d %H:%M} {_('system')}] {_('receivables back under the limit')}"
        with transaction.atomic():
            for warning in still_open.select_for_update():
                Warning.objects.filter(pk=warning.pk).update(
                    status=Warning.Status.RESOLVED, resolved_by=None, resolved_at=timezone.now(),
                    note=f"{warning.note}\n{line}".strip(), updated_at=timezone.now())
        return None
    warning = found[0]
    with transaction.atomic():
        known = Warning.objects.filter(kind=warning.kind, key=warning.key).exists()
        Warning.objects.bulk_create([warning], ignore_conflicts=True)
    if known:
        return None
    if params.get("task", False):
        _open_tasks(WarningKind.CREDIT_LIMIT, [warning.key])
    return Warning.objects.get(kind=warning.kind, key=warning.key)


def _handle_warning(warning: Warning, actor: User, note: str) -> str:
    from guanxi.insights.selectors import visible_warnings

    if not visible_warnings(actor).filter(pk=warning.pk).exists():
        raise Warning.DoesNotExist
    if is_read_only(actor):
        raise PermissionDenied(_("Read-only roles cannot handle warnings."))
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationError({"note": _("Keep the note under 2,000 characters.")})
    return note


def _append_note(warning: Warning, actor: User, note: str) -> str:
    if not note:
        return warning.note
    line = f"[{timezone.localtime():%Y-%m-%d %H:%M} {actor.username}] {note}"
    return f"{warning.note}\n{line}".strip()


def acknowledge_warning(*, warning: Warning, actor: User, note: str = "") -> Warning:
    """Someone has seen the warning and is on it."""
    note = _handle_warning(warning, actor, note)
    if warning.status != Warning.Status.OPEN:
        raise ValidationError({"status": _("Only an open warning can be acknowledged.")})
    with transaction.atomic():
        updated = Warning.objects.filter(pk=warning.pk, status=Warning.Status.OPEN).update(
            status=Warning.Status.ACKNOWLEDGED, acknowledged_by=actor, acknowledged_at=timezone.now(),
            note=_append_note(warning, actor, note), updated_at=timezone.now(),
        )
        if not updated:
            raise ValidationError({"status": _("Someone else handled this warning meanwhile.")})
    warning.refresh_from_db()
    return warning


def resolve_warning(*, warning: Warning, actor: User, note: str) -> Warning:
    """Close the warning, saying what was done (the note is required)."""
    note = _handle_warning(warning, actor, note)
    if not note:
        raise ValidationError({"note": _("Say how the warning was resolved.")})
    if warning.status == Warning.Status.RESOLVED:
        raise ValidationError({"status": _("The warning is already resolved.")})
    with transaction.atomic():
        Warning.objects.filter(pk=warning.pk).update(
            status=Warning.Status.RESOLVED, resolved_by=actor, resolved_at=timezone.now(),
            note=_append_note(warning, actor, note), updated_at=timezone.now(),
        )
    warning.refresh_from_db()
    return warning


# --- Credit ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CreditCheck:
    receivable: Decimal
    credit_limit: Decimal
    extra_amount: Decimal

    @property
    def exceeds(self) -> bool:
        """Strictly above a granted limit (a limit of 0 means none was granted)."""
        return self.credit_limit > 0 and self.receivable + self.extra_amount > self.credit_limit

    @property
    def available(self) -> Decimal:
        return max(self.credit_limit - self.receivable, Decimal("0.00"))


def check_credit(*, customer: Customer, extra_amount: Decimal = Decimal("0.00")) -> CreditCheck:
    """Would receivables plus `extra_amount` (a new order) go over the credit limit? The order flow
    calls this inside its transaction: the customer row is locked first (PostgreSQL; SQLite's
    IMMEDIATE transaction serialises), so two concurrent orders cannot both squeeze under the limit."""
    from guanxi.insights.early_warnings import receivables_by_customer

    if not isinstance(extra_amount, Decimal) or not extra_amount.is_finite() or extra_amount < 0:
        raise ValidationError({"extra_amount": _("Enter an amount of zero or more.")})
    with transaction.atomic():
        locked = Customer.objects.select_for_update().filter(pk=customer.pk).values_list("credit_limit", flat=True).get()
        receivable = receivables_by_customer(Customer.objects.filter(pk=customer.pk)).values_list("receivable", flat=True).get()
    return CreditCheck(receivable=receivable.quantize(scoring.CENT), credit_limit=locked, extra_amount=extra_amount)


# --- Exports ---------------------------------------------------------------------------------------

EXPORT_ROLES = {Role.ADMIN, Role.MANAGER}
EXPORT_COLUMNS = (
    ("id", "pk"), ("name", "name"), ("kind", "kind"), ("state", "state"), ("owner", "owner__username"),
    ("phone", "phone"), ("email", "email"), ("province", "province"), ("city", "city"), ("source", "source"),
    ("grade", "current_grade"), ("clv", "current_clv"),
)


def may_export(user: User) -> bool:
    """Only administrators and managers take customer lists out (seed 000: data must not leave with the employee)."""
    return user.is_active and (user.is_superuser or user.role in EXPORT_ROLES)


def export_customers(*, user: User, filters: dict, fmt: str) -> tuple[str, str, Iterator[bytes]]:
    """Record the export, flag unusual volume to administrators, and return (filename, content
    type, byte chunks). The rows stream (csv writer / openpyxl write-only), never a whole list in memory."""
    from guanxi.insights.early_warnings import rule_parameters
    from guanxi.insights.models import CustomerExport, WarningKind
    from guanxi.insights.selectors import customers_for_export

    if not may_export(user):
        raise PermissionDenied(_("Your role may not export customer lists."))
    if fmt not in CustomerExport.Format.values:
        raise ValidationError({"fmt": _("Choose csv or xlsx.")})
    queryset = customers_for_export(user, filters)
    rows = queryset.count()
    limits = rule_parameters(WarningKind.EXPORT_VOLUME)
    today = timezone.localdate()
    with transaction.atomic():
        earlier = CustomerExport.objects.filter(user=user, created_at__date=today).aggregate(s=Sum("rows"))["s"] or 0
        flagged = limits is not None and (rows > limits["rows_per_export"] or earlier + rows > limits["rows_per_day"])
        record = CustomerExport.objects.create(user=user, filters=filters, fmt=fmt, rows=rows, flagged=flagged)
        if flagged:
            Warning.objects.bulk_create([Warning(
                kind=WarningKind.EXPORT_VOLUME, key=f"u{user.pk}:{today}", subject_user=user, assignee=None,
                message=_("%(user)s exported %(rows)d customers (%(day)d today).") % {"user": user.username, "rows": rows, "day": earlier + rows},
                suggestion=_("Check that the export was needed (data must not leave with the employee)."),
                data={"export_id": record.pk, "rows": rows, "rows_today": earlier + rows})], ignore_conflicts=True)
    name = f"customers-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
    values = queryset.values_list(*(field for _h, field in EXPORT_COLUMNS))
    headers = [h for h, _f in EXPORT_COLUMNS]
    if fmt == "csv":
        return name, "text/csv; charset=utf-8", _csv_chunks(headers, values)
    return name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _xlsx_chunks(headers, values)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_chunks(headers: list[str], values) -> Iterator[bytes]:
    writer = csv.writer(_Echo())
    yield "\ufeff".encode()  # a BOM, so Excel opens Chinese names as UTF-8
    yield writer.writerow(headers).encode()
    batch = []
    for row in values.iterator(chunk_size=2_000):
        batch.append(writer.writerow(["" if v is None else v for v in row]))
        if len(batch) >= 500:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


def _xlsx_chunks(headers: list[str], values) -> Iterator[bytes]:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("customers")
    sheet.append(headers)
    for row in values.iterator(chunk_size=2_000):
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        while chunk := handle.read(64 * 1024):
            yield chunk


# --- Win-back (lost customers) ---------------------------------------------------------------------
# One WinBack row per lost episode (models.WinBack): opened by change_state in its transaction (or by
# refresh_winbacks for moves written in bulk), started by a person (or by the "lost" warning's task
# switch), won back in bulk when the customer buys again or returns to current, or given up.

REGAINED_DAYS = 365  # revenue regained = billed orders in the year after the win-back
WINBACK_TASK_DAYS = 7

WINBACK_STEPS = (
    _lazy("Analyse why they left: read the reason, their orders, complaints and contacts before the loss."),
    _lazy("Contact the customer and listen; apologise where we were at fault and say what has changed."),
    _lazy("Make an offer that answers the reason (see below)."),
    _lazy("Follow up: confirm the first order after the return and stay in touch; record the outcome here."),
)
WINBACK_OFFERS = {
    "price": _lazy("Price: review the terms — a volume price, a bundle or a loyalty discount."),
    "product": _lazy("Product quality: show what was fixed, offer a replacement or a trial with a guarantee."),
    "service": _lazy("Service: name one contact person, promise response times and keep them."),
    "competitor": _lazy("Competitor: compare the whole value, not only the price; offer what they lack."),
    "need_ended": _lazy("Need ended: offer what fits their new needs, or ask for a referral."),
    "moved_closed": _lazy("Moved or closed down: find the successor or the new site; ask for a referral."),
    "payment": _lazy("Payment or credit: agree a payment plan or prepayment before new orders."),
    "other": _lazy("Answer the reason the customer gave."),
}


def _unfinished():
    from guanxi.insights.models import WinBack

    return (WinBack.Status.OPEN, WinBack.Status.IN_PROGRESS)


def winback_steps(reason_category: str, reason: str = "") -> str:
    """The task's checklist: the four steps, then the offer that fits the reason."""
    lines = [f"{i}. {step}" for i, step in enumerate(WINBACK_STEPS, start=1)]
    offer = WINBACK_OFFERS.get(reason_category)
    if offer:
        lines.append(f"→ {offer}")
    if reason:
        lines.append(_("Reason given: %(reason)s") % {"reason": reason})
    return "\n".join(lines)


def record_state_change(*, change, owner_id: int | None, actor: User | None) -> None:
    """Called by customers.services.change_state inside its transaction: a move to lost opens the
    episode's win-back (an earlier unfinished one ends: lost again before coming back); a move
    from lost back to current wins the open episode back."""
    from guanxi.customers.models import State
    from guanxi.insights.models import WinBack

    lost_on = timezone.localdate(change.changed_at)
    if change.to_state == State.LOST:
        WinBack.objects.filter(customer_id=change.customer_id, status__in=_unfinished()).update(
            status=WinBack.Status.GIVEN_UP, ended_on=lost_on, note=_("Lost again before coming back."), updated_at=timezone.now())
        WinBack.objects.bulk_create([WinBack(customer_id=change.customer_id, lost_change=change, lost_on=lost_on,
                                             reason_category=change.reason_category, owner_id=owner_id)],
                                    ignore_conflicts=True)
    elif change.from_state == State.LOST and change.to_state == State.CURRENT:
        for winback in WinBack.objects.filter(customer_id=change.customer_id, status__in=_unfinished()):
            _finish_won_back(winback.pk, winback.task_id, on=lost_on, outcome=WinBack.Outcome.STATE, order_id=None)


def _check_winback(winback, actor: User) -> None:
    from guanxi.core.visibility import can_edit_customer
    from guanxi.insights.models import WinBack
    from guanxi.insights.selectors import visible_winbacks

    if not visible_winbacks(actor).filter(pk=winback.pk).exists():
        raise WinBack.DoesNotExist
    if is_read_only(actor) or not can_edit_customer(actor, winback.customer):
        raise PermissionDenied(_("You may not work on this customer's win-back."))


def _customer_event(customer_id: int, verb: str, summary: str, actor: User | None) -> None:
    from guanxi.customers.models import CustomerEvent

    CustomerEvent.objects.create(customer_id=customer_id, verb=verb, summary=summary[:500], actor=actor)


def start_winback(*, winback, actor: User):
    """Open the win-back task (the four steps as its checklist) for the owner and mark the episode
    in progress. The owner runs it; a manager starting it hands it to the owner."""
    from guanxi.engagement.models import Task
    from guanxi.engagement.services import create_task
    from guanxi.insights.models import WinBack

    _check_winback(winback, actor)
    if winback.status != WinBack.Status.OPEN:
        raise ValidationError({"status": _("Only a win-back that has not started can be started.")})
    customer = winback.customer
    assignee = next((u for u in (winback.owner, customer.owner) if u is not None and u.is_active), actor)
    with transaction.atomic():
        if not WinBack.objects.filter(pk=winback.pk, status=WinBack.Status.OPEN).update(
            status=WinBack.Status.IN_PROGRESS, started_at=timezone.now(), started_by=actor, updated_at=timezone.now(),
        ):
            raise ValidationError({"status": _("Someone else started or closed this win-back meanwhile.")})
        task = create_task(
            title=_("Win back %(customer)s") % {"customer": customer.name}, actor=actor, assignee=assignee,
            customer=customer, due_at=timezone.now() + datetime.timedelta(days=WINBACK_TASK_DAYS), priority=Task.Priority.HIGH,
            description=winback_steps(winback.reason_category, winback.lost_change.reason),
        )
        WinBack.objects.filter(pk=winback.pk).update(task=task)
        _customer_event(customer.pk, "winback_started", _("Win-back started"), actor)
    winback.refresh_from_db()
    return winback


def give_up_winback(*, winback, actor: User, note: str):
    """End the win-back without the customer coming back, saying why; its open task is cancelled."""
    from guanxi.engagement.models import Task
    from guanxi.insights.models import WinBack

    _check_winback(winback, actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the win-back is given up.")})
    if len(note) > 2000:
        raise ValidationError({"note": _("Keep the note under 2,000 characters.")})
    if winback.status not in _unfinished():
        raise ValidationError({"status": _("This win-back has already ended.")})
    with transaction.atomic():
        if not WinBack.objects.filter(pk=winback.pk, status__in=_unfinished()).update(
            status=WinBack.Status.GIVEN_UP, ended_on=timezone.localdate(), note=note, updated_at=timezone.now(),
        ):
            raise ValidationError({"status": _("Someone else closed this win-back meanwhile.")})
        if winback.task_id:
            from django.db.models import F

            Task.objects.filter(pk=winback.task_id, status=Task.Status.OPEN).update(
                status=Task.Status.CANCELLED, version=F("version") + 1, updated_at=timezone.now())
        _customer_event(winback.customer_id, "winback_given_up", _("Win-back given up: %(note)s") % {"note": note}, actor)
    winback.refresh_from_db()
    return winback


def _finish_won_back(pk: int, task_id: int | None, *, on: datetime.date, outcome: str, order_id: int | None) -> bool:
    from django.db.models import F

    from guanxi.engagement.models import Task
    from guanxi.insights.models import WinBack

    done = WinBack.objects.filter(pk=pk, status__in=_unfinished()).update(
        status=WinBack.Status.WON_BACK, ended_on=on, outcome=outcome, won_back_order_id=order_id, updated_at=timezone.now())
    if done and task_id:
        Task.objects.filter(pk=task_id, status=Task.Status.OPEN).update(
            status=Task.Status.DONE, completed_at=timezone.now(), version=F("version") + 1, updated_at=timezone.now())
    return bool(done)


def detect_won_back(*, customer_ids: list[int] | None = None, as_of: datetime.date | None = None) -> int:
    """Win back, in bulk, every unfinished episode whose customer bought again (the first billed order
    dated after the lost date, up to `as_of`) or was moved back to current — before being lost again.
    An episode overtaken by a later loss ends as given up. One query finds them (correlated subqueries
    per episode, no loop over customers); only the episodes that change are written. Returns how
    many were won back."""
    from django.db.models import OuterRef, Q, Subquery

    from guanxi.customers.models import CustomerEvent, State, StateChange
    from guanxi.insights.models import WinBack
    from guanxi.sales.models import Order
    from guanxi.sales.selectors import BILLED_STATUSES

    as_of = as_of or timezone.localdate()
    episodes = WinBack.objects.filter(status__in=_unfinished())
    if customer_ids is not None:
        episodes = episodes.filter(customer_id__in=list(customer_ids))
    first_order = (Order.objects.filter(customer_id=OuterRef("customer_id"), status__in=BILLED_STATUSES,
                                        order_date__gt=OuterRef("lost_on"), order_date__lte=as_of)
                   .order_by("order_date", "pk"))
    later = StateChange.objects.filter(customer_id=OuterRef("customer_id"), changed_at__gt=OuterRef("lost_change__changed_at"))
    returned = later.filter(from_state=State.LOST, to_state=State.CURRENT).order_by("changed_at", "pk")
    lost_again = later.filter(to_state=State.LOST).order_by("changed_at", "pk")
    rows = episodes.annotate(
        order_id=Subquery(first_order.values("pk")[:1]), order_on=Subquery(first_order.values("order_date")[:1]),
        returned_at=Subquery(returned.values("changed_at")[:1]), lost_again_at=Subquery(lost_again.values("changed_at")[:1]),
    ).filter(Q(order_id__isnull=False) | Q(returned_at__isnull=False) | Q(lost_again_at__isnull=False)).values_list("pk", "customer_id", "task_id", "order_id", "order_on", "returned_at", "lost_again_at")
    won, events = 0, []
    for pk, customer_id, task_id, order_id, order_on, returned_at, lost_again_at in rows.iterator(chunk_size=BATCH):
        until = timezone.localdate(lost_again_at) if lost_again_at else None
        returned_on = timezone.localdate(returned_at) if returned_at and (lost_again_at is None or returned_at < lost_again_at) else None
        order_on = order_on if order_on and (until is None or order_on < until) else None
        if order_on and (returned_on is None or order_on <= returned_on):
            finished = _finish_won_back(pk, task_id, on=order_on, outcome=WinBack.Outcome.ORDER, order_id=order_id)
        elif returned_on:
            finished = _finish_won_back(pk, task_id, on=returned_on, outcome=WinBack.Outcome.STATE, order_id=None)
        else:
            WinBack.objects.filter(pk=pk, status__in=_unfinished()).update(
                status=WinBack.Status.GIVEN_UP, ended_on=until, note=_("Lost again before coming back."), updated_at=timezone.now())
            continue
        if finished:
            won += 1
            events.append(CustomerEvent(customer_id=customer_id, verb="won_back", summary=_("Won back")))
    CustomerEvent.objects.bulk_create(events, batch_size=BATCH)
    return won


def refresh_revenue_regained(*, as_of: datetime.date | None = None) -> int:
    """Revenue regained per won-back episode: billed orders dated after the lost date and within
    REGAINED_DAYS of the win-back. Only episodes whose year is not over are refreshed; their
    customers' orders are read in one query per 5,000 episodes."""
    from collections import defaultdict

    from guanxi.insights.models import WinBack
    from guanxi.sales.models import Order
    from guanxi.sales.selectors import BILLED_STATUSES

    as_of = as_of or timezone.localdate()
    episodes = list(WinBack.objects.filter(status=WinBack.Status.WON_BACK, ended_on__gte=as_of - datetime.timedelta(days=REGAINED_DAYS + 1))
                    .values_list("pk", "customer_id", "lost_on", "ended_on", "revenue_regained"))
    changed = 0
    for start in range(0, len(episodes), BATCH):
        chunk = episodes[start:start + BATCH]
        orders = defaultdict(list)
        for customer_id, day, total in (Order.objects.filter(customer_id__in=[e[1] for e in chunk], status__in=BILLED_STATUSES,
                                                             order_date__gt=min(e[2] for e in chunk))
                                        .values_list("customer_id", "order_date", "total").iterator(chunk_size=BATCH)):
            orders[customer_id].append((day, total))
        updates = []
        for pk, customer_id, lost_on, ended_on, old in chunk:
            until = ended_on + datetime.timedelta(days=REGAINED_DAYS)
            revenue = sum((t for d, t in orders[customer_id] if lost_on < d <= until), Decimal("0.00"))
            if revenue != old:
                updates.append(WinBack(pk=pk, revenue_regained=revenue))
        with transaction.atomic():
            WinBack.objects.bulk_update(updates, ["revenue_regained"], batch_size=1000)
        changed += len(updates)
    return changed


def open_missing_winbacks() -> int:
    """Win-back rows for moves to lost written without change_state (the demo, imports, a customer
    created as lost). Exactly once: the unique lost_change makes a rerun insert nothing."""
    from guanxi.customers.models import State, StateChange
    from guanxi.insights.models import WinBack

    missing = (StateChange.objects.filter(to_state=State.LOST).exclude(pk__in=WinBack.objects.values("lost_change_id"))
               .order_by("changed_at", "pk").values_list("pk", "customer_id", "customer__owner_id", "reason_category", "changed_at"))
    rows = [WinBack(lost_change_id=pk, customer_id=customer_id, owner_id=owner_id, reason_category=category,
                    lost_on=timezone.localdate(changed_at))
            for pk, customer_id, owner_id, category, changed_at in missing.iterator(chunk_size=BATCH)]
    for start in range(0, len(rows), BATCH):
        with transaction.atomic():
            WinBack.objects.bulk_create(rows[start:start + BATCH], ignore_conflicts=True)
    return len(rows)


def refresh_winbacks(*, as_of: datetime.date | None = None) -> dict[str, int]:
    """The daily job: open missing episodes, win back those who returned, refresh revenue regained."""
    as_of = as_of or timezone.localdate()
    return {"opened": open_missing_winbacks(), "won_back": detect_won_back(as_of=as_of),
            "revenue_refreshed": refresh_revenue_regained(as_of=as_of)}


def order_billed(*, customer_id: int) -> None:
    """After a billed order commits: a lost customer buying again is won back at once (the daily job
    catches any this misses). Cheap when the customer has no unfinished episode: one indexed query."""
    from guanxi.insights.models import WinBack

    if WinBack.objects.filter(customer_id=customer_id, status__in=_unfinished()).exists():
        detect_won_back(customer_ids=[customer_id])
