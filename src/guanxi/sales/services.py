"""Every write to products, the pipeline, orders, payments, plans, budgets and sales expenses.

Each function is keyword-only, validates its input (a bad value raises ValidationError naming
the field), writes inside `transaction.atomic()` and leaves a trace with the actor: a
CustomerEvent on the customer's timeline for customer business, an admin LogEntry for the
catalogue and the pipeline. A customer the actor cannot see raises Customer.DoesNotExist
(the API answers 404); a read-only role raises PermissionDenied.
"""

import datetime
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from guanxi.accounts.models import Role, User
from guanxi.core.locking import save_versioned
from guanxi.core.visibility import is_read_only, visible_customers
from guanxi.customers.models import Customer, CustomerEvent, PaymentTerms
from guanxi.sales.models import (
    COLLECTION_STAGES,
    CollectionCase,
    CollectionPolicy,
    CollectionStage,
    CollectionStep,
    CreditApproval,
    CreditFreezeLift,
    ExpenseBudget,
    Opportunity,
    Order,
    OrderLine,
    OrderSequence,
    Payment,
    PipelineStage,
    Product,
    ProductCategory,
    SalesExpense,
    SalesPlan,
)

CENT = Decimal("0.01")
MAX_MONEY = Decimal("999999999999.99")  # DecimalField(14, 2)
MAX_QUANTITY = Decimal("999999999.999")  # DecimalField(12, 3)
QUANTITY_STEP = Decimal("0.001")
ORDER_NUMBER_PREFIX = "SO"


# --- Checks shared by every service --------------------------------------------------------

def ensure_can_edit_customer(actor: User, customer: Customer) -> None:
    """Invisible customers do not exist for the actor; visible ones may still be read-only."""
    if not visible_customers(actor).filter(pk=customer.pk).exists():
        raise Customer.DoesNotExist(_("No such customer."))
    if not actor.is_active or is_read_only(actor):
        raise PermissionDenied(_("You may not change this customer."))


def ensure_catalogue_manager(actor: User) -> None:
    """Products and pipeline stages are shared settings: administrators and managers change them."""
    if not actor.is_active or not (actor.is_superuser or actor.role in (Role.ADMIN, Role.MANAGER)):
        raise PermissionDenied(_("Only administrators and managers change the catalogue and the pipeline."))


def money(value, field: str, *, minimum: Decimal | None = Decimal("0"), positive: bool = False) -> Decimal:
    """An exact amount with at most two decimal places that fits the money column."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: _("Enter an amount of money.")}) from None
    if not amount.is_finite():
        raise ValidationError({field: _("Enter an amount of money.")})
    if abs(amount) > MAX_MONEY:
        raise ValidationError({field: _("The amount is too large.")})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: _("Use at most two decimal places.")})
    if positive and amount <= 0:
        raise ValidationError({field: _("The amount must be greater than zero.")})
    if minimum is not None and amount < minimum:
        raise ValidationError({field: _("The amount cannot be negative.")})
    return amount.quantize(CENT)


def _quantity(value, field: str) -> Decimal:
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: _("Enter a quantity.")}) from None
    if not quantity.is_finite() or quantity <= 0:
        raise ValidationError({field: _("The quantity must be greater than zero.")})
    if quantity > MAX_QUANTITY:
        raise ValidationError({field: _("The quantity is too large.")})
    if quantity != quantity.quantize(QUANTITY_STEP):
        raise ValidationError({field: _("Use at most three decimal places.")})
    return quantity.quantize(QUANTITY_STEP)


def clean_text(value, field: str, max_length: int, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > max_length:
        raise ValidationError({field: _("At most %(n)d characters.") % {"n": max_length}})
    if "\x00" in text:
        raise ValidationError({field: _("Contains a NUL character.")})
    return text


def clean_choice(value, field: str, choices) -> str:
    if value not in choices.values:
        raise ValidationError({field: _("“%(value)s” is not one of the allowed values.") % {"value": str(value)[:40]}})
    return value


def _event(customer_id: int, verb: str, summary: str, actor: User | None) -> None:
    CustomerEvent.objects.create(customer_id=customer_id, verb=verb, summary=summary[:500], actor=actor)


def _audit(actor: User, obj, flag: int, message: str) -> None:
    """Catalogue and pipeline changes land in the admin's history (they belong to no customer)."""
    LogEntry.objects.create(
        user=actor, content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk),
        object_repr=str(obj)[:200], action_flag=flag, change_message=message[:1000],
    )


# --- Products ------------------------------------------------------------------------------

PRODUCT_FIELDS = ("sku", "name", "category", "list_price", "cost", "currency", "replacement_cycle_days", "is_one_off", "is_active")


def _clean_product(product: Product, fields: dict) -> None:
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be set here.")})
    if "sku" in fields:
        fields["sku"] = clean_text(fields["sku"], "sku", 40, required=True)
    if "name" in fields:
        fields["name"] = clean_text(fields["name"], "name", 200, required=True)
    for name in ("list_price", "cost"):
        if name in fields:
            fields[name] = money(fields[name], name)
    cycle = fields.get("replacement_cycle_days")
    if cycle is not None and (not isinstance(cycle, int) or isinstance(cycle, bool) or not 1 <= cycle <= 36500):
        raise ValidationError({"replacement_cycle_days": _("Enter a number of days between 1 and 36500.")})
    for name, value in fields.items():
        setattr(product, name, value)
    if product.is_one_off and product.replacement_cycle_days:
        raise ValidationError({"replacement_cycle_days": _("A one-off product is never bought again, so it has no replacement cycle.")})
    product.full_clean(exclude=["category"], validate_unique=False, validate_constraints=False)
    clash = Product.objects.filter(sku=product.sku).exclude(pk=product.pk).first()
    if clash:
        raise ValidationError({"sku": _("Another product already has this SKU.")})


def create_product_category(*, actor: User, name: str, parent: ProductCategory | None = None) -> ProductCategory:
    ensure_catalogue_manager(actor)
    name = clean_text(name, "name", 100, required=True)
    with transaction.atomic():
        if ProductCategory.objects.filter(name=name).exists():
            raise ValidationError({"name": _("This category already exists.")})
        category = ProductCategory.objects.create(name=name, parent=parent)
        _audit(actor, category, ADDITION, "created")
    return category


def create_product(*, actor: User, sku: str, name: str, list_price: Decimal, cost: Decimal = Decimal("0"),
                   **fields) -> Product:
    """Add a product to the catalogue; margin = list price − cost."""
    ensure_catalogue_manager(actor)
    product = Product()
    _clean_product(product, {"sku": sku, "name": name, "list_price": list_price, "cost": cost, **fields})
    with transaction.atomic():
        product.save()
        _audit(actor, product, ADDITION, "created")
    return product


def update_product(*, product: Product, actor: User, expected_version: int, **fields) -> Product:
    """Change catalogue fields unless someone saved the product since `expected_version`."""
    ensure_catalogue_manager(actor)
    _clean_product(product, fields)
    with transaction.atomic():
        names = [("category_id" if f == "category" else f) for f in fields]
        save_versioned(product, expected_version=expected_version, fields=names)
        _audit(actor, product, CHANGE, ", ".join(sorted(fields)))
    return product


# --- Pipeline stages -----------------------------------------------------------------------

def _clean_probability(value, field: str = "probability") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise ValidationError({field: _("Enter a percentage between 0 and 100.")})
    return value


def create_stage(*, actor: User, name: str, probability: int = 10, is_won: bool = False, is_lost: bool = False,
                 position: int | None = None) -> PipelineStage:
    """Add a stage (at the end of the open stages unless a position is given)."""
    ensure_catalogue_manager(actor)
    name = clean_text(name, "name", 100, required=True)
    probability = _clean_probability(probability)
    if is_won and is_lost:
        raise ValidationError({"is_lost": _("A stage cannot be both won and lost.")})
    with transaction.atomic():
        if position is None:
            last_open = PipelineStage.objects.filter(is_won=False, is_lost=False).aggregate(m=Max("position"))["m"] or 0
            position = last_open + 1
            while PipelineStage.objects.filter(position=position).exists():
                position += 1
        if not 0 <= position <= 32767:
            raise ValidationError({"position": _("Enter a position between 0 and 32767.")})
        if PipelineStage.objects.filter(position=position).exists():
            raise ValidationError({"position": _("Another stage already has this position.")})
        stage = PipelineStage.objects.create(name=name, probability=probability, is_won=is_won, is_lost=is_lost, position=position)
        _audit(actor, stage, ADDITION, "created")
    return stage


def update_stage(*, stage: PipelineStage, actor: User, name: str | None = None, probability: int | None = None) -> PipelineStage:
    """Rename a stage or change its default probability (open opportunities keep theirs)."""
    ensure_catalogue_manager(actor)
    changed = []
    if name is not None:
        stage.name = clean_text(name, "name", 100, required=True)
        changed.append("name")
    if probability is not None:
        stage.probability = _clean_probability(probability)
        changed.append("probability")
    with transaction.atomic():
        stage.save(update_fields=[*changed, "updated_at"])
        _audit(actor, stage, CHANGE, ", ".join(changed))
    return stage


def reorder_stages(*, actor: User, stage_ids: list[int]) -> list[PipelineStage]:
    """Put every stage in the given order (positions 10, 20, …); the list must name each stage once."""
    ensure_catalogue_manager(actor)
    with transaction.atomic():
        stages = {s.pk: s for s in PipelineStage.objects.select_for_update()}
        if len(stage_ids) != len(set(stage_ids)) or set(stage_ids) != set(stages):
            raise ValidationError({"stage_ids": _("List every stage exactly once.")})
        # Two passes: positions are unique, so park every stage out of the way first.
        for index, pk in enumerate(stage_ids, start=1):
            PipelineStage.objects.filter(pk=pk).update(position=30000 + index)
        for index, pk in enumerate(stage_ids, start=1):
            PipelineStage.objects.filter(pk=pk).update(position=index * 10, updated_at=timezone.now())
        ordered = list(PipelineStage.objects.order_by("position"))
        if ordered:
            _audit(actor, ordered[0], CHANGE, "pipeline reordered")
    return ordered


def delete_stage(*, stage: PipelineStage, actor: User) -> None:
    """Remove an unused stage; a stage that any opportunity is in stays."""
    ensure_catalogue_manager(actor)
    with transaction.atomic():
        if Opportunity.objects.filter(stage=stage).exists():
            raise ValidationError({"stage": _("Opportunities are in this stage; move them before deleting it.")})
        _audit(actor, stage, DELETION, "deleted")
        stage.delete()


# --- Opportunities -------------------------------------------------------------------------

OPPORTUNITY_FIELDS = ("title", "amount", "currency", "probability", "expected_close", "owner", "notes")


def _clean_opportunity(opportunity: Opportunity, fields: dict) -> None:
    unknown = set(fields) - set(OPPORTUNITY_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be set here.")})
    if "title" in fields:
        fields["title"] = clean_text(fields["title"], "title", 200, required=True)
    if "amount" in fields:
        fields["amount"] = money(fields["amount"], "amount")
    if "probability" in fields:
        fields["probability"] = _clean_probability(fields["probability"])
    if "notes" in fields:
        fields["notes"] = clean_text(fields["notes"], "notes", 20_000)
    owner = fields.get("owner")
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": _("The owner is not an active user.")})
    for name, value in fields.items():
        setattr(opportunity, name, value)
    opportunity.full_clean(exclude=["customer", "stage", "owner"], validate_unique=False, validate_constraints=False)


def create_opportunity(*, customer: Customer, title: str, actor: User, amount: Decimal = Decimal("0"),
                       stage: PipelineStage | None = None, probability: int | None = None,
                       expected_close: datetime.date | None = None, owner: User | None = None, notes: str = "",
                       currency: str | None = None) -> Opportunity:
    """Open an opportunity in `stage` (default: the first stage) with that stage's probability."""
    ensure_can_edit_customer(actor, customer)
    stage = stage or PipelineStage.objects.filter(is_won=False, is_lost=False).order_by("position").first()
    if stage is None:
        raise ValidationError({"stage": _("The pipeline has no open stage.")})
    if stage.is_lost:
        raise ValidationError({"stage": _("Open the opportunity first, then move it to a lost stage with the reason.")})
    opportunity = Opportunity(customer=customer, stage=stage, currency=currency or customer.currency)
    _clean_opportunity(opportunity, {
        "title": title, "amount": amount, "expected_close": expected_close, "notes": notes,
        "owner": owner or customer.owner or actor,
        "probability": stage.probability if probability is None else probability,
    })
    if stage.is_closed:
        opportunity.closed_at = timezone.now()
    with transaction.atomic():
        opportunity.save()
        _event(customer.pk, "opportunity_created", _("Opportunity “%(title)s” opened in %(stage)s") % {"title": opportunity.title, "stage": stage.name}, actor)
    return opportunity


def update_opportunity(*, opportunity: Opportunity, actor: User, expected_version: int, **fields) -> Opportunity:
    """Edit an opportunity's details (the stage moves through move_opportunity)."""
    ensure_can_edit_customer(actor, opportunity.customer)
    _clean_opportunity(opportunity, fields)
    with transaction.atomic():
        names = [("owner_id" if f == "owner" else f) for f in fields]
        save_versioned(opportunity, expected_version=expected_version, fields=names)
        _event(opportunity.customer_id, "opportunity_updated", _("Opportunity “%(title)s” edited: %(fields)s") % {"title": opportunity.title, "fields": ", ".join(sorted(fields))}, actor)
    return opportunity


def move_opportunity(*, opportunity: Opportunity, to_stage: PipelineStage, actor: User, expected_version: int,
                     probability: int | None = None, lost_reason: str = "") -> Opportunity:
    """Move to another stage: won/lost close it (lost needs a reason), an open stage reopens it."""
    ensure_can_edit_customer(actor, opportunity.customer)
    lost_reason = clean_text(lost_reason, "lost_reason", 300)
    if to_stage.is_lost and not lost_reason:
        raise ValidationError({"lost_reason": _("Say why the opportunity was lost.")})
    from_stage = opportunity.stage
    opportunity.stage = to_stage
    opportunity.probability = to_stage.probability if probability is None else _clean_probability(probability)
    if to_stage.is_closed:
        opportunity.closed_at = opportunity.closed_at if from_stage.is_closed and opportunity.closed_at else timezone.now()
        opportunity.lost_reason = lost_reason if to_stage.is_lost else ""
    else:
        opportunity.closed_at = None
        opportunity.lost_reason = ""
    with transaction.atomic():
        save_versioned(opportunity, expected_version=expected_version, fields=["stage_id", "probability", "closed_at", "lost_reason"])
        if to_stage.is_won:
            summary = _("Opportunity “%(title)s” won") % {"title": opportunity.title}
        elif to_stage.is_lost:
            summary = _("Opportunity “%(title)s” lost: %(reason)s") % {"title": opportunity.title, "reason": lost_reason}
        else:
            summary = _("Opportunity “%(title)s” moved from %(from)s to %(to)s") % {"title": opportunity.title, "from": from_stage.name, "to": to_stage.name}
        _event(opportunity.customer_id, "opportunity_moved", summary, actor)
    return opportunity


# --- Orders --------------------------------------------------------------------------------

def due_date_for(customer: Customer, order_date: datetime.date) -> datetime.date:
    """Prepayment and cash are due on the order date; net N (and instalments) N days later."""
    if customer.payment_terms in (PaymentTerms.NET, PaymentTerms.INSTALMENTS):
        return order_date + datetime.timedelta(days=customer.payment_days)
    return order_date


def next_order_number(order_date: datetime.date) -> str:
    """SO-<year>-<6+ digits>, unique under concurrency.

    The per-year counter row is bumped with an UPDATE, which holds its row lock until the
    caller's transaction commits (PostgreSQL; SQLite's IMMEDIATE transactions serialise). A new
    year's counter starts after the highest number already used (demo data, imports).
    """
    year = order_date.year
    prefix = f"{ORDER_NUMBER_PREFIX}-{year}-"
    if not OrderSequence.objects.filter(year=year).exists():
        used = [int(n[len(prefix):]) for n in Order.objects.filter(number__startswith=prefix).values_list("number", flat=True).order_by("-number")[:1] if n[len(prefix):].isdigit()]
        OrderSequence.objects.bulk_create([OrderSequence(year=year, last_number=used[0] if used else 0)], ignore_conflicts=True)
    OrderSequence.objects.filter(year=year).update(last_number=F("last_number") + 1)
    number = OrderSequence.objects.get(year=year).last_number
    return f"{prefix}{number:06d}"


def _resolve_products(lines: list[dict]) -> dict[int, Product]:
    ids = set()
    for index, line in enumerate(lines):
        product = line.get("product")
        if isinstance(product, Product):
            continue
        if not isinstance(product, int) or isinstance(product, bool) or product < 1:
            raise ValidationError({f"lines.{index}.product": _("Choose a product.")})
        ids.add(product)
    found = {p.pk: p for p in Product.objects.filter(pk__in=ids)} if ids else {}
    for index, line in enumerate(lines):
        product = line.get("product")
        pk = product.pk if isinstance(product, Product) else product
        if not isinstance(product, Product) and pk not in found:
            raise ValidationError({f"lines.{index}.product": _("Unknown product.")})
    return found


def create_order(*, customer: Customer, lines: Iterable[dict], actor: User, order_date: datetime.date | None = None,
                 promised_delivery: datetime.date | None = None, opportunity: Opportunity | None = None,
                 owner: User | None = None, status: str = Order.Status.CONFIRMED, notes: str = "") -> Order:
    """Place an order: lines are {product, quantity, unit_price (default: list price), batch (optional lot number)}.

    Totals are exact: line total = quantity × unit price (rounded half-up to the cent); the
    discount is measured against the list price and the cost from the product's unit cost, both
    frozen on the line. Payment is due by the customer's terms.
    """
    ensure_can_edit_customer(actor, customer)
    lines = list(lines or [])
    if not lines:
        raise ValidationError({"lines": _("An order needs at least one line.")})
    if len(lines) > 500:
        raise ValidationError({"lines": _("At most 500 lines per order.")})
    if status not in (Order.Status.DRAFT, Order.Status.CONFIRMED):
        raise ValidationError({"status": _("A new order is a draft or confirmed.")})
    if opportunity is not None and opportunity.customer_id != customer.pk:
        raise ValidationError({"opportunity": _("The opportunity belongs to another customer.")})
    order_date = order_date or timezone.localdate()
    if promised_delivery is not None and promised_delivery < order_date:
        raise ValidationError({"promised_delivery": _("Delivery cannot be promised before the order date.")})
    products = _resolve_products(lines)
    built, total, discount, cost = [], Decimal("0"), Decimal("0"), Decimal("0")
    for index, line in enumerate(lines):
        product = line["product"] if isinstance(line["product"], Product) else products[line["product"]]
        quantity = _quantity(line.get("quantity", 1), f"lines.{index}.quantity")
        price = line.get("unit_price")
        unit_price = product.list_price if price is None else money(price, f"lines.{index}.unit_price")
        line_total = (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
        if line_total > MAX_MONEY:
            raise ValidationError({f"lines.{index}.quantity": _("The line total is too large.")})
        batch = clean_text(line.get("batch"), f"lines.{index}.batch", 40)
        built.append(OrderLine(product=product, quantity=quantity, unit_price=unit_price, list_price=product.list_price,
                               unit_cost=product.cost, line_total=line_total, batch=batch))
        total += line_total
        discount += ((product.list_price - unit_price) * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        cost += (product.cost * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    if total > MAX_MONEY or abs(discount) > MAX_MONEY or cost > MAX_MONEY:
        raise ValidationError({"lines": _("The order total is too large.")})
    with transaction.atomic():
        hold = _credit_hold(customer, total) if status == Order.Status.CONFIRMED else None
        order = Order.objects.create(
            number=next_order_number(order_date), customer=customer, opportunity=opportunity,
            owner=owner or customer.owner or actor, status=Order.Status.CREDIT_HOLD if hold else status,
            order_date=order_date, due_date=due_date_for(customer, order_date), currency=customer.currency, total=total,
            discount_total=discount, cost_total=cost, promised_delivery=promised_delivery,
            notes=clean_text(notes, "notes", 20_000), created_by=actor,
        )
        for line in built:
            line.order = order
        OrderLine.objects.bulk_create(built)
        if hold:
            _hold_for_approval(order, hold, actor)
        elif order.status == Order.Status.CONFIRMED:
            _after_money_change(customer.pk)
    return order


def confirm_order(*, order: Order, actor: User, expected_version: int) -> Order:
    ensure_can_edit_customer(actor, order.customer)
    if order.status != Order.Status.DRAFT:
        raise ValidationError({"status": _("Only a draft order can be confirmed.")})
    with transaction.atomic():
        hold = _credit_hold(order.customer, order.total)
        order.status = Order.Status.CREDIT_HOLD if hold else Order.Status.CONFIRMED
        save_versioned(order, expected_version=expected_version, fields=["status"])
        if hold:
            _hold_for_approval(order, hold, actor)
        else:
            _event(order.customer_id, "order_confirmed", _("Order %(number)s confirmed") % {"number": order.number}, actor)
            _after_money_change(order.customer_id)
    return order


def cancel_order(*, order: Order, actor: User, expected_version: int, reason: str = "") -> Order:
    """Cancel an undelivered order that has no payment allocated to it."""
    ensure_can_edit_customer(actor, order.customer)
    reason = clean_text(reason, "reason", 300)
    if order.status == Order.Status.CANCELLED:
        raise ValidationError({"status": _("The order is already cancelled.")})
    if order.status == Order.Status.DELIVERED:
        raise ValidationError({"status": _("A delivered order cannot be cancelled.")})
    if order.amount_paid > 0:
        raise ValidationError({"status": _("Payments are allocated to this order; it cannot be cancelled.")})
    was_billed = order.status in (Order.Status.CONFIRMED, Order.Status.DELIVERED)
    order.status = Order.Status.CANCELLED
    with transaction.atomic():
        save_versioned(order, expected_version=expected_version, fields=["status"])
        CreditApproval.objects.filter(order_id=order.pk, decision=CreditApproval.Decision.PENDING).update(
            decision=CreditApproval.Decision.WITHDRAWN, decided_by=actor, decided_at=timezone.now(), note=reason,
            updated_at=timezone.now())
        summary = _("Order %(number)s cancelled") % {"number": order.number}
        _event(order.customer_id, "order_cancelled", f"{summary}: {reason}" if reason else summary, actor)
        if was_billed:
            _after_money_change(order.customer_id)
    return order


def deliver_order(*, order: Order, actor: User, expected_version: int, delivered_on: datetime.date | None = None) -> Order:
    """Record delivery; the event says whether the promise was kept."""
    ensure_can_edit_customer(actor, order.customer)
    delivered_on = delivered_on or timezone.localdate()
    if order.status != Order.Status.CONFIRMED:
        raise ValidationError({"status": _("Only a confirmed order can be delivered.")})
    if delivered_on < order.order_date:
        raise ValidationError({"delivered_on": _("Delivery cannot precede the order date.")})
    order.status = Order.Status.DELIVERED
    order.delivered_on = delivered_on
    with transaction.atomic():
        save_versioned(order, expected_version=expected_version, fields=["status", "delivered_on"])
        if order.promised_delivery and delivered_on > order.promised_delivery:
            summary = _("Order %(number)s delivered %(days)d days late") % {"number": order.number, "days": (delivered_on - order.promised_delivery).days}
        else:
            summary = _("Order %(number)s delivered") % {"number": order.number}
        _event(order.customer_id, "order_delivered", summary, actor)
    return order


# --- Payments ------------------------------------------------------------------------------

def record_payment(*, customer: Customer, amount, actor: User, order: Order | None = None,
                   paid_on: datetime.date | None = None, method: str = Payment.Method.BANK_TRANSFER,
                   reference: str = "") -> Payment:
    """Record money received: against an order (never more than its balance) or on account."""
    ensure_can_edit_customer(actor, customer)
    amount = money(amount, "amount", positive=True)
    method = clean_choice(method, "method", Payment.Method)
    reference = clean_text(reference, "reference", 100)
    paid_on = paid_on or timezone.localdate()
    with transaction.atomic():
        if order is not None:
            locked = Order.objects.select_for_update().filter(pk=order.pk).first()
            if locked is None or locked.customer_id != customer.pk:
                raise ValidationError({"order": _("The order belongs to another customer.")})
            if locked.status in (Order.Status.CANCELLED, Order.Status.DRAFT, Order.Status.CREDIT_HOLD):
                raise ValidationError({"order": _("Payments go to confirmed or delivered orders only.")})
            if amount > locked.balance:
                raise ValidationError({"amount": _("The order's balance is %(balance)s; the payment of %(amount)s would overpay it.") % {"balance": locked.balance, "amount": amount}})
            Order.objects.filter(pk=locked.pk).update(
                amount_paid=F("amount_paid") + amount, version=F("version") + 1, updated_at=timezone.now()
            )
            order.refresh_from_db()
        payment = Payment.objects.create(
            customer=customer, order=order, amount=amount, currency=customer.currency, paid_on=paid_on,
            method=method, reference=reference, recorded_by=actor,
        )
        _after_money_change(customer.pk)
    return payment


# --- Plans, budgets and expenses -----------------------------------------------------------

def _check_period(period_start, period_end) -> None:
    if not isinstance(period_start, datetime.date) or not isinstance(period_end, datetime.date):
        raise ValidationError({"period_start": _("Enter the first and last day of the period.")})
    if period_end < period_start:
        raise ValidationError({"period_end": _("The period ends before it starts.")})
    if (period_end - period_start).days > 366 * 5:
        raise ValidationError({"period_end": _("A period is at most five years long.")})


def _check_subject(actor: User, owner: User | None, customer: Customer | None) -> None:
    if owner is None and customer is None:
        raise ValidationError({"owner": _("Name a sales rep, a customer or both.")})
    if customer is not None:
        ensure_can_edit_customer(actor, customer)
    elif is_read_only(actor) or not actor.is_active:
        raise PermissionDenied(_("You may not plan for others."))
    if owner is not None and owner.pk != actor.pk and not (actor.is_superuser or actor.role in (Role.ADMIN, Role.MANAGER)):
        raise PermissionDenied(_("Only managers set plans and budgets for other reps."))


def _overlapping(model, owner, customer, start, end):
    return model.objects.filter(
        Q(owner=owner) if owner else Q(owner__isnull=True),
        Q(customer=customer) if customer else Q(customer__isnull=True),
        period_start__lte=end, period_end__gte=start,
    )


def create_sales_plan(*, actor: User, period_start: datetime.date, period_end: datetime.date, target,
                      owner: User | None = None, customer: Customer | None = None) -> SalesPlan:
    """A sales target (销售计划) for a rep, a customer or a rep's customer; periods never overlap."""
    _check_subject(actor, owner, customer)
    _check_period(period_start, period_end)
    target = money(target, "target")
    with transaction.atomic():
        if _overlapping(SalesPlan, owner, customer, period_start, period_end).exists():
            raise ValidationError({"period_start": _("Another plan for the same rep and customer covers part of this period.")})
        plan = SalesPlan.objects.create(owner=owner, customer=customer, period_start=period_start, period_end=period_end,
                                        target=target, currency=customer.currency if customer else "CNY")
        if customer is not None:
            _event(customer.pk, "sales_plan", _("Sales plan %(start)s – %(end)s: %(target)s") % {"start": period_start, "end": period_end, "target": target}, actor)
        else:
            _audit(actor, plan, ADDITION, "created")
    return plan


def create_expense_budget(*, actor: User, period_start: datetime.date, period_end: datetime.date, amount,
                          owner: User | None = None, customer: Customer | None = None) -> ExpenseBudget:
    """A sales-expense budget (销售费用预算); periods for the same subject never overlap."""
    _check_subject(actor, owner, customer)
    _check_period(period_start, period_end)
    amount = money(amount, "amount")
    with transaction.atomic():
        if _overlapping(ExpenseBudget, owner, customer, period_start, period_end).exists():
            raise ValidationError({"period_start": _("Another budget for the same rep and customer covers part of this period.")})
        budget = ExpenseBudget.objects.create(owner=owner, customer=customer, period_start=period_start, period_end=period_end,
                                              amount=amount, currency=customer.currency if customer else "CNY")
        if customer is not None:
            _event(customer.pk, "expense_budget", _("Expense budget %(start)s – %(end)s: %(amount)s") % {"start": period_start, "end": period_end, "amount": amount}, actor)
        else:
            _audit(actor, budget, ADDITION, "created")
    return budget


def record_sales_expense(*, actor: User, customer: Customer, amount, order: Order | None = None,
                         category: str = SalesExpense.Category.OTHER, spent_on: datetime.date | None = None,
                         description: str = "", owner: User | None = None) -> SalesExpense:
    """A cost of selling to a customer, optionally tied to one sale (order)."""
    ensure_can_edit_customer(actor, customer)
    amount = money(amount, "amount", positive=True)
    category = clean_choice(category, "category", SalesExpense.Category)
    description = clean_text(description, "description", 300)
    if order is not None and order.customer_id != customer.pk:
        raise ValidationError({"order": _("The order belongs to another customer.")})
    with transaction.atomic():
        expense = SalesExpense.objects.create(
            customer=customer, order=order, owner=owner or actor, spent_on=spent_on or timezone.localdate(),
            category=category, amount=amount, currency=customer.currency, description=description,
        )
        _event(customer.pk, "sales_expense", _("Sales expense %(amount)s (%(category)s)") % {"amount": amount, "category": expense.get_category_display()}, actor)
    return expense


# --- Credit approval, live credit checks, bad-debt escalation -----------------------------------

COLLECTION_TASKS = {
    CollectionStage.REMINDER: _lazy("Send a payment reminder"),
    CollectionStage.DEMAND: _lazy("Send the formal demand letter"),
    CollectionStage.LEGAL: _lazy("Hand over to the legal department"),
}
COLLECTION_TASK_DAYS = 3


def may_approve_credit(user: User) -> bool:
    """Managers and administrators decide on held orders and freezes (of customers they may edit)."""
    return user.is_active and not is_read_only(user) and (user.is_superuser or user.role in (Role.ADMIN, Role.MANAGER))


def _ensure_credit_manager(actor: User, customer: Customer) -> None:
    ensure_can_edit_customer(actor, customer)
    if not may_approve_credit(actor):
        raise PermissionDenied(_("Only managers and administrators decide on credit."))


def _credit_hold(customer: Customer, total: Decimal) -> dict | None:
    """Why an order of `total` must wait for approval, or None. The customer row is locked first
    (check_credit), so two orders placed at once cannot both squeeze under the limit."""
    from guanxi.insights.services import check_credit
    from guanxi.sales.selectors import credit_standing

    check = check_credit(customer=customer, extra_amount=total)
    standing = credit_standing(customer.pk)
    if not standing.frozen and not check.exceeds:
        return None
    return {"reason": CreditApproval.Reason.FROZEN if standing.frozen else CreditApproval.Reason.OVER_LIMIT,
            "freeze_reason": standing.freeze_reason[:300], "receivable": check.receivable,
            "credit_limit": check.credit_limit, "order_total": total}


def _hold_for_approval(order: Order, hold: dict, actor: User) -> CreditApproval:
    approval = CreditApproval.objects.create(order=order, customer_id=order.customer_id, requested_by=actor, **hold)
    if hold["reason"] == CreditApproval.Reason.FROZEN:
        why = hold["freeze_reason"]
    else:
        why = _("receivables %(owed)s + order %(total)s exceed the credit limit %(limit)s") % {
            "owed": hold["receivable"], "total": hold["order_total"], "limit": hold["credit_limit"]}
    _event(order.customer_id, "order_credit_hold",
           _("Order %(number)s awaits credit approval: %(why)s") % {"number": order.number, "why": why}, actor)
    return approval


def _after_money_change(customer_id: int) -> None:
    """After the commit, check this customer's credit warning and collection case at once (the
    nightly evaluator would find the same, under the same key). A failure here never undoes the save."""
    transaction.on_commit(lambda: live_credit_check(customer_id), robust=True)
    transaction.on_commit(lambda: _winback_check(customer_id), robust=True)
    transaction.on_commit(lambda: _campaign_check(customer_id), robust=True)


def _winback_check(customer_id: int) -> None:
    """A lost customer buying again is won back at once (insights; the daily job catches any missed)."""
    from guanxi.insights.services import order_billed

    order_billed(customer_id=customer_id)


def _campaign_check(customer_id: int) -> None:
    """A purchase within a campaign's response window counts for it at once (care; the daily job recounts)."""
    from guanxi.care.services import attribute_customer_purchases

    attribute_customer_purchases(customer_id=customer_id)


def live_credit_check(customer_id: int) -> None:
    from guanxi.insights.services import evaluate_credit_warning

    evaluate_credit_warning(customer_id=customer_id)
    close_collection_if_paid(customer_id=customer_id)


def _pending_approval(order: Order) -> CreditApproval:
    approval = CreditApproval.objects.filter(order_id=order.pk, decision=CreditApproval.Decision.PENDING).first()
    if order.status != Order.Status.CREDIT_HOLD or approval is None:
        raise ValidationError({"status": _("This order is not awaiting credit approval.")})
    return approval


def approve_credit(*, order: Order, actor: User, expected_version: int, note: str = "") -> Order:
    """A manager grants the credit: the held order is confirmed (and billed)."""
    _ensure_credit_manager(actor, order.customer)
    note = clean_text(note, "note", 2000)
    with transaction.atomic():
        approval = _pending_approval(order)
        order.status = Order.Status.CONFIRMED
        save_versioned(order, expected_version=expected_version, fields=["status"])
        CreditApproval.objects.filter(pk=approval.pk).update(
            decision=CreditApproval.Decision.APPROVED, decided_by=actor, decided_at=timezone.now(), note=note,
            updated_at=timezone.now())
        summary = _("Credit approved for order %(number)s") % {"number": order.number}
        _event(order.customer_id, "order_credit_approved", f"{summary}: {note}" if note else summary, actor)
        _after_money_change(order.customer_id)
    return order


def reject_credit(*, order: Order, actor: User, expected_version: int, reason: str) -> Order:
    """A manager refuses the credit: the held order is cancelled, with the reason."""
    _ensure_credit_manager(actor, order.customer)
    reason = clean_text(reason, "reason", 300, required=True)
    with transaction.atomic():
        approval = _pending_approval(order)
        order.status = Order.Status.CANCELLED
        save_versioned(order, expected_version=expected_version, fields=["status"])
        CreditApproval.objects.filter(pk=approval.pk).update(
            decision=CreditApproval.Decision.REJECTED, decided_by=actor, decided_at=timezone.now(), note=reason,
            updated_at=timezone.now())
        _event(order.customer_id, "order_credit_rejected",
               _("Credit refused for order %(number)s: %(reason)s") % {"number": order.number, "reason": reason}, actor)
    return order


def _overdue_by_customer(today: datetime.date, customer_ids=None) -> dict[int, tuple[datetime.date, Decimal]]:
    """{customer: (oldest due date, overdue amount)} over billed orders past due with a balance.
    Debts already overdue when a manager closed a case by hand stay out: that close settled them."""
    from django.db.models import ExpressionWrapper

    from guanxi.sales.selectors import BILLED_STATUSES

    orders = Order.objects.filter(status__in=BILLED_STATUSES, due_date__lt=today, total__gt=F("amount_paid")).order_by()
    closed = CollectionCase.objects.filter(closed_by__isnull=False).order_by()
    if customer_ids is not None:
        orders, closed = orders.filter(customer_id__in=customer_ids), closed.filter(customer_id__in=customer_ids)
    settled = {c: timezone.localtime(at).date() for c, at in
               closed.values("customer_id").annotate(at=Max("closed_at")).values_list("customer_id", "at")}
    balance = ExpressionWrapper(F("total") - F("amount_paid"), output_field=Order._meta.get_field("total"))
    found: dict[int, tuple[datetime.date, Decimal]] = {}
    for customer_id, due, owed in orders.annotate(owed=balance).values_list("customer_id", "due_date", "owed").iterator(chunk_size=5000):
        if customer_id in settled and due <= settled[customer_id]:
            continue
        oldest, total = found.get(customer_id, (due, Decimal("0")))
        found[customer_id] = (min(oldest, due), (total + owed).quantize(CENT))
    return found


def escalate_collections(*, today: datetime.date | None = None, customer_ids: list[int] | None = None) -> dict[str, int]:
    """The daily bad-debt escalation (先礼后兵): open a case for each customer whose oldest overdue
    debt reached the reminder days, record each stage reached exactly once (unique case × stage),
    freeze credit from the policy's stage, and close the cases whose overdue balance was paid.
    Rerunning the same day changes nothing. `customer_ids` limits it to those customers (the demo).
    Returns counts of what changed."""
    today = today or timezone.localdate()
    policy = CollectionPolicy.current()
    overdue = _overdue_by_customer(today, customer_ids)
    due_stages = {}
    for customer_id, (oldest, owed) in overdue.items():
        days = (today - oldest).days
        reached = [stage for stage in COLLECTION_STAGES if days >= policy.days_for(stage)]
        if reached:
            due_stages[customer_id] = (reached, days, owed)
    counts = {"opened": 0, "steps": 0, "closed": 0}
    ids = sorted(due_stages)
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        open_cases = {c.customer_id: c for c in CollectionCase.objects.filter(customer_id__in=chunk, closed_at__isnull=True)}
        known = set(CollectionStep.objects.filter(case__in=list(open_cases.values())).values_list("case_id", "stage"))
        for customer_id in chunk:
            reached, days, owed = due_stages[customer_id]
            case = open_cases.get(customer_id)
            if case is not None and all((case.pk, stage) in known for stage in reached):
                continue
            counts["steps"] += _escalate(customer_id, case, reached, days, owed, policy, today, counts)
    paid_up = CollectionCase.objects.filter(closed_at__isnull=True).exclude(customer_id__in=list(overdue)).values_list("pk", flat=True)
    if customer_ids is not None:
        paid_up = paid_up.filter(customer_id__in=customer_ids)
    for case_id in list(paid_up):
        counts["closed"] += _close_paid_case(case_id)
    return counts


def _escalate(customer_id: int, case: CollectionCase | None, reached: list[str], days: int, owed: Decimal,
              policy: CollectionPolicy, today: datetime.date, counts: dict) -> int:
    from guanxi.engagement.services import create_task

    with transaction.atomic():
        if case is None:
            CollectionCase.objects.bulk_create([CollectionCase(customer_id=customer_id, opened_on=today)], ignore_conflicts=True)
            case = CollectionCase.objects.select_for_update().get(customer_id=customer_id, closed_at__isnull=True)
            counts["opened"] += 1
        else:
            case = CollectionCase.objects.select_for_update().get(pk=case.pk)
        done = set(case.steps.values_list("stage", flat=True))
        new = [stage for stage in reached if stage not in done]
        if not new:
            return 0
        CollectionStep.objects.bulk_create(
            [CollectionStep(case=case, stage=stage, reached_on=today, days_overdue=days, overdue_amount=owed) for stage in new],
            ignore_conflicts=True)
        for stage in new:
            _event(customer_id, "collection_" + stage,
                   _("Collection: %(stage)s (%(amount)s overdue for %(days)d days)")
                   % {"stage": CollectionStage(stage).label, "amount": owed, "days": days}, None)
        top = new[-1]
        case.stage = top
        fields = ["stage", "updated_at"]
        if policy.freezes(top):
            case.frozen_at = timezone.now()
            fields.append("frozen_at")
            _event(customer_id, "credit_frozen", _("Credit frozen: new orders wait for a manager's approval."), None)
        case.updated_at = timezone.now()
        case.save(update_fields=fields)
        customer = Customer.objects.select_related("owner").get(pk=customer_id)
        owner = customer.owner
        if owner is not None and owner.is_active and not is_read_only(owner):
            # The owner files it: the system has no user of its own, and the owner may act on the customer.
            task = create_task(title=str(COLLECTION_TASKS[top]), actor=owner, assignee=owner, customer=customer,
                               due_at=timezone.now() + datetime.timedelta(days=COLLECTION_TASK_DAYS),
                               description=_("%(amount)s overdue for %(days)d days.") % {"amount": owed, "days": days})
            CollectionStep.objects.filter(case=case, stage=top).update(task=task)
    return len(new)


def _close_paid_case(case_id: int, note: str = "") -> int:
    with transaction.atomic():
        closed = CollectionCase.objects.filter(pk=case_id, closed_at__isnull=True).update(
            closed_at=timezone.now(), close_note=note or _("Overdue balance paid."), updated_at=timezone.now())
        if closed:
            customer_id = CollectionCase.objects.filter(pk=case_id).values_list("customer_id", flat=True).get()
            _event(customer_id, "collection_closed", _("Collection closed: the overdue balance is paid; credit no longer frozen."), None)
    return closed


def close_collection_if_paid(*, customer_id: int, today: datetime.date | None = None) -> bool:
    """Close the customer's open case once nothing is overdue any more (the payment's live check)."""
    case_id = CollectionCase.objects.filter(customer_id=customer_id, closed_at__isnull=True).values_list("pk", flat=True).first()
    if case_id is None or _overdue_by_customer(today or timezone.localdate(), [customer_id]):
        return False
    return bool(_close_paid_case(case_id))


def close_collection_case(*, case: CollectionCase, actor: User, note: str) -> CollectionCase:
    """A manager closes a case by hand (settled, written off, …): the debts overdue now no longer
    escalate, and the freeze it caused lifts. The note is required."""
    _ensure_credit_manager(actor, case.customer)
    note = clean_text(note, "note", 2000, required=True)
    with transaction.atomic():
        if not CollectionCase.objects.filter(pk=case.pk, closed_at__isnull=True).update(
                closed_at=timezone.now(), closed_by=actor, close_note=note, updated_at=timezone.now()):
            raise ValidationError({"status": _("The collection case is already closed.")})
        _event(case.customer_id, "collection_closed", _("Collection closed: %(note)s") % {"note": note}, actor)
    case.refresh_from_db()
    return case


def lift_credit_freeze(*, customer: Customer, actor: User, note: str) -> CreditFreezeLift:
    """A manager lifts the customer's credit freeze (collection or grade), saying why. A later
    escalation, or a new move into a frozen grade, freezes again."""
    from guanxi.sales.selectors import credit_standing

    _ensure_credit_manager(actor, customer)
    note = clean_text(note, "note", 2000, required=True)
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk", flat=True).get()
        if not credit_standing(customer.pk).frozen:
            raise ValidationError({"status": _("The customer's credit is not frozen.")})
        lift = CreditFreezeLift.objects.create(customer=customer, lifted_by=actor, note=note)
        _event(customer.pk, "credit_freeze_lifted", _("Credit freeze lifted: %(note)s") % {"note": note}, actor)
    return lift
