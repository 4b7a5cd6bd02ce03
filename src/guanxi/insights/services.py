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
            # The assignee files it: the system has no user of its own, and the owner may act on the customer.
            create_task(title=str(title), actor=warning.assignee, assignee=warning.assignee, customer=warning.customer,
                        due_at=timezone.now() + datetime.timedelta(days=days),
                        description=f"{warning.message}\n{warning.suggestion}\n(#{warning.pk})")


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
