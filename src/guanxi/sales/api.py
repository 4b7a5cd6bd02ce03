"""API routes for products, the pipeline, opportunities, orders, payments, receivables, plans and budgets.

Thin edges: parse, resolve ids through the user's view (an id one cannot see is a 404), call one
service or selector, render. Read-only roles get 403 on writes to records they can see.
"""

import datetime
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from guanxi.accounts.models import User
from guanxi.core.pagination import capped_count
from guanxi.core.schemas import Date, Id, LongText, Money, PageParams, Text, Version
from guanxi.core.visibility import visible_customers
from guanxi.sales import selectors, services
from guanxi.sales.models import Payment, PipelineStage, ProductCategory, SalesExpense

router = Router(tags=["sales"])

Percent = Annotated[int, Field(ge=0, le=100)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3, allow_inf_nan=False)]
PositiveMoney = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
Search = Text(100)
OrderStatus = Literal["draft", "credit_hold", "confirmed", "delivered", "cancelled"]
PaymentMethod = Literal[tuple(Payment.Method.values)]
ExpenseCategory = Literal[tuple(SalesExpense.Category.values)]


# --- Helpers -------------------------------------------------------------------------------

def page(queryset, params: PageParams) -> dict:
    """The list envelope of every endpoint: {"items", "count", "count_capped"}."""
    count, capped = capped_count(queryset)
    return {"items": list(queryset[params.offset: params.offset + params.limit]), "count": count, "count_capped": capped}


@contextmanager
def forbidden_as_403():
    """Services raise PermissionDenied only after the record proved visible, so 403 leaks nothing."""
    try:
        yield
    except PermissionDenied as exc:
        raise HttpError(403, str(exc) or _("You may not do this.")) from None


def customer_in_view(user: User, customer_id: int):
    return visible_customers(user).get(pk=customer_id)


def user_or_422(pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({field: _("Unknown or inactive user.")})
    return user


def stage_or_422(pk: int | None, field: str = "stage") -> PipelineStage | None:
    if pk is None:
        return None
    stage = PipelineStage.objects.filter(pk=pk).first()
    if stage is None:
        raise ValidationError({field: _("Unknown stage.")})
    return stage


def category_or_422(pk: int | None) -> ProductCategory | None:
    if pk is None:
        return None
    category = ProductCategory.objects.filter(pk=pk).first()
    if category is None:
        raise ValidationError({"category": _("Unknown category.")})
    return category


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    username: str


# --- Products ------------------------------------------------------------------------------

class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None


class CategoryIn(Schema):
    name: Text(100, min_length=1)
    parent: Id | None = None


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    category: CategoryOut | None
    list_price: Decimal
    cost: Decimal
    margin: Decimal
    margin_rate: Decimal | None
    currency: str
    replacement_cycle_days: int | None
    is_one_off: bool
    is_active: bool
    version: int


class ProductIn(Schema):
    sku: Text(40, min_length=1)
    name: Text(200, min_length=1)
    category: Id | None = None
    list_price: Money = Field(..., ge=0)
    cost: Money = Field(Decimal("0"), ge=0)
    currency: Text(3) = "CNY"
    replacement_cycle_days: Annotated[int, Field(ge=1, le=36500)] | None = None
    is_one_off: bool = False
    is_active: bool = True


class ProductPatch(Schema):
    version: Version
    sku: Text(40, min_length=1) | None = None
    name: Text(200, min_length=1) | None = None
    category: Id | None = None
    list_price: Money | None = Field(None, ge=0)
    cost: Money | None = Field(None, ge=0)
    currency: Text(3) | None = None
    replacement_cycle_days: Annotated[int, Field(ge=1, le=36500)] | None = None
    is_one_off: bool | None = None
    is_active: bool | None = None


class ProductPage(Schema):
    items: list[ProductOut]
    count: int
    count_capped: bool


@router.get("/products", response=ProductPage)
def list_products(request, params: Query[PageParams], search: Search | None = None, category: Id | None = None,
                  active: bool | None = None):
    return page(selectors.products(search=search, category=category, active=active), params)


@router.post("/products", response={201: ProductOut})
def create_product(request, payload: ProductIn):
    data = payload.dict()
    data["category"] = category_or_422(data["category"])
    with forbidden_as_403():
        product = services.create_product(actor=request.auth, **data)
    return Status(201, product)


@router.get("/products/{product_id}", response=ProductOut)
def get_product(request, product_id: Id):
    return selectors.products().get(pk=product_id)


@router.patch("/products/{product_id}", response=ProductOut)
def update_product(request, product_id: Id, payload: ProductPatch):
    product = selectors.products().get(pk=product_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    if "category" in data:
        data["category"] = category_or_422(data["category"])
    with forbidden_as_403():
        return services.update_product(product=product, actor=request.auth, expected_version=version, **data)


@router.post("/product-categories", response={201: CategoryOut})
def create_category(request, payload: CategoryIn):
    parent = None
    if payload.parent is not None:
        parent = ProductCategory.objects.filter(pk=payload.parent).first()
        if parent is None:
            raise ValidationError({"parent": _("Unknown category.")})
    with forbidden_as_403():
        return Status(201, services.create_product_category(actor=request.auth, name=payload.name, parent=parent))


# --- Pipeline stages -----------------------------------------------------------------------

class StageOut(Schema):
    id: int
    name: str
    position: int
    probability: int
    is_won: bool
    is_lost: bool


class StageIn(Schema):
    name: Text(100, min_length=1)
    probability: Percent = 10
    is_won: bool = False
    is_lost: bool = False
    position: Annotated[int, Field(ge=0, le=32767)] | None = None


class StagePatch(Schema):
    name: Text(100, min_length=1) | None = None
    probability: Percent | None = None


class StageOrderIn(Schema):
    stage_ids: list[Id] = Field(..., max_length=500)


class StagePage(Schema):
    items: list[StageOut]
    count: int
    count_capped: bool


@router.get("/stages", response=StagePage)
def list_stages(request, params: Query[PageParams]):
    return page(selectors.pipeline_stages(), params)


@router.post("/stages", response={201: StageOut})
def create_stage(request, payload: StageIn):
    with forbidden_as_403():
        return Status(201, services.create_stage(actor=request.auth, **payload.dict()))


# Registered before /stages/{stage_id} so that "reorder" is never read as an id.
@router.post("/stages/reorder", response=list[StageOut])
def reorder_stages(request, payload: StageOrderIn):
    with forbidden_as_403():
        return services.reorder_stages(actor=request.auth, stage_ids=payload.stage_ids)


@router.patch("/stages/{stage_id}", response=StageOut)
def update_stage(request, stage_id: Id, payload: StagePatch):
    stage = PipelineStage.objects.get(pk=stage_id)
    with forbidden_as_403():
        return services.update_stage(stage=stage, actor=request.auth, **payload.dict(exclude_unset=True))


@router.delete("/stages/{stage_id}", response={204: None})
def delete_stage(request, stage_id: Id):
    stage = PipelineStage.objects.get(pk=stage_id)
    with forbidden_as_403():
        services.delete_stage(stage=stage, actor=request.auth)
    return Status(204, None)


# --- Opportunities -------------------------------------------------------------------------

class OpportunityOut(Schema):
    id: int
    customer: Ref
    title: str
    stage: StageOut
    amount: Decimal
    currency: str
    probability: int
    weighted_amount: Decimal
    expected_close: datetime.date | None
    owner: UserRef | None
    closed_at: datetime.datetime | None
    lost_reason: str
    notes: str
    version: int


class OpportunityIn(Schema):
    customer: Id
    title: Text(200, min_length=1)
    amount: Money = Field(Decimal("0"), ge=0)
    stage: Id | None = None
    probability: Percent | None = None
    expected_close: Date | None = None
    owner: Id | None = None
    notes: LongText = ""


class OpportunityPatch(Schema):
    version: Version
    title: Text(200, min_length=1) | None = None
    amount: Money | None = Field(None, ge=0)
    probability: Percent | None = None
    expected_close: Date | None = None
    owner: Id | None = None
    notes: LongText | None = None


class MoveIn(Schema):
    stage: Id
    version: Version
    probability: Percent | None = None
    lost_reason: Text(300) = ""


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    count: int
    count_capped: bool


@router.get("/opportunities", response=OpportunityPage)
def list_opportunities(request, params: Query[PageParams], stage: Id | None = None, owner: Id | None = None,
                       customer: Id | None = None, status: Literal["open", "closed"] | None = None,
                       search: Search | None = None):
    is_open = None if status is None else status == "open"
    queryset = selectors.opportunities_for(request.auth, customer=customer, stage=stage, owner=owner, is_open=is_open, search=search)
    return page(queryset, params)


@router.post("/opportunities", response={201: OpportunityOut})
def create_opportunity(request, payload: OpportunityIn):
    data = payload.dict()
    customer = customer_in_view(request.auth, data.pop("customer"))
    data["stage"] = stage_or_422(data["stage"])
    data["owner"] = user_or_422(data["owner"], "owner")
    with forbidden_as_403():
        opportunity = services.create_opportunity(customer=customer, actor=request.auth, **data)
    return Status(201, selectors.get_opportunity(request.auth, opportunity.pk))


@router.get("/opportunities/{opportunity_id}", response=OpportunityOut)
def get_opportunity(request, opportunity_id: Id):
    return selectors.get_opportunity(request.auth, opportunity_id)


@router.patch("/opportunities/{opportunity_id}", response=OpportunityOut)
def update_opportunity(request, opportunity_id: Id, payload: OpportunityPatch):
    opportunity = selectors.get_opportunity(request.auth, opportunity_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    if "owner" in data:
        data["owner"] = user_or_422(data["owner"], "owner")
    with forbidden_as_403():
        services.update_opportunity(opportunity=opportunity, actor=request.auth, expected_version=version, **data)
    return selectors.get_opportunity(request.auth, opportunity_id)


@router.post("/opportunities/{opportunity_id}/move", response=OpportunityOut)
def move_opportunity(request, opportunity_id: Id, payload: MoveIn):
    opportunity = selectors.get_opportunity(request.auth, opportunity_id)
    to_stage = stage_or_422(payload.stage)
    with forbidden_as_403():
        services.move_opportunity(opportunity=opportunity, to_stage=to_stage, actor=request.auth, expected_version=payload.version,
                                  probability=payload.probability, lost_reason=payload.lost_reason)
    return selectors.get_opportunity(request.auth, opportunity_id)


# --- Orders --------------------------------------------------------------------------------

class OrderLineOut(Schema):
    id: int
    product: Ref
    quantity: Decimal
    unit_price: Decimal
    list_price: Decimal
    unit_cost: Decimal
    line_total: Decimal
    discount: Decimal
    batch: str


class OrderOut(Schema):
    id: int
    number: str
    customer: Ref
    owner: UserRef | None
    opportunity_id: int | None
    status: str
    order_date: datetime.date
    due_date: datetime.date | None
    currency: str
    total: Decimal
    discount_total: Decimal
    cost_total: Decimal
    amount_paid: Decimal
    balance: Decimal
    margin: Decimal
    promised_delivery: datetime.date | None
    delivered_on: datetime.date | None
    notes: str
    version: int


class OrderDetail(OrderOut):
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())


class OrderLineIn(Schema):
    product: Id
    quantity: Quantity = Decimal("1")
    unit_price: Money | None = Field(None, ge=0)
    batch: Text(40) = ""


class OrderIn(Schema):
    customer: Id
    lines: list[OrderLineIn] = Field(..., min_length=1, max_length=500)
    order_date: Date | None = None
    promised_delivery: Date | None = None
    opportunity: Id | None = None
    owner: Id | None = None
    status: Literal["draft", "confirmed"] = "confirmed"
    notes: LongText = ""


class CancelIn(Schema):
    version: Version
    reason: Text(300) = ""


class DeliverIn(Schema):
    version: Version
    delivered_on: Date | None = None


class VersionIn(Schema):
    version: Version


class OrderPage(Schema):
    items: list[OrderOut]
    count: int
    count_capped: bool


@router.get("/orders", response=OrderPage)
def list_orders(request, params: Query[PageParams], customer: Id | None = None, status: OrderStatus | None = None,
                owner: Id | None = None, date_from: Date | None = None, date_to: Date | None = None,
                search: Search | None = None):
    queryset = selectors.orders_for(request.auth, customer=customer, status=status, owner=owner,
                                    date_from=date_from, date_to=date_to, search=search)
    return page(queryset, params)


@router.post("/orders", response={201: OrderDetail})
def create_order(request, payload: OrderIn):
    user = request.auth
    customer = customer_in_view(user, payload.customer)
    opportunity = None
    if payload.opportunity is not None:
        opportunity = selectors.opportunities_for(user).filter(pk=payload.opportunity).first()
        if opportunity is None:
            raise ValidationError({"opportunity": _("Unknown opportunity.")})
    lines = [line.dict() for line in payload.lines]
    with forbidden_as_403():
        order = services.create_order(
            customer=customer, lines=lines, actor=user, order_date=payload.order_date,
            promised_delivery=payload.promised_delivery, opportunity=opportunity,
            owner=user_or_422(payload.owner, "owner"), status=payload.status, notes=payload.notes,
        )
    return Status(201, selectors.get_order(user, order.pk))


@router.get("/orders/{order_id}", response=OrderDetail)
def get_order(request, order_id: Id):
    return selectors.get_order(request.auth, order_id)


@router.post("/orders/{order_id}/confirm", response=OrderDetail)
def confirm_order(request, order_id: Id, payload: VersionIn):
    order = selectors.get_order(request.auth, order_id)
    with forbidden_as_403():
        services.confirm_order(order=order, actor=request.auth, expected_version=payload.version)
    return selectors.get_order(request.auth, order_id)


@router.post("/orders/{order_id}/cancel", response=OrderDetail)
def cancel_order(request, order_id: Id, payload: CancelIn):
    order = selectors.get_order(request.auth, order_id)
    with forbidden_as_403():
        services.cancel_order(order=order, actor=request.auth, expected_version=payload.version, reason=payload.reason)
    return selectors.get_order(request.auth, order_id)


@router.post("/orders/{order_id}/deliver", response=OrderDetail)
def deliver_order(request, order_id: Id, payload: DeliverIn):
    order = selectors.get_order(request.auth, order_id)
    with forbidden_as_403():
        services.deliver_order(order=order, actor=request.auth, expected_version=payload.version, delivered_on=payload.delivered_on)
    return selectors.get_order(request.auth, order_id)


class ApproveCreditIn(Schema):
    version: Version
    note: Text(2000) = ""


class RejectCreditIn(Schema):
    version: Version
    reason: Text(300, min_length=1)


@router.post("/orders/{order_id}/approve-credit", response=OrderDetail)
def approve_credit(request, order_id: Id, payload: ApproveCreditIn):
    """A manager grants the credit for an order held over the limit or for a frozen customer: it is confirmed."""
    order = selectors.get_order(request.auth, order_id)
    with forbidden_as_403():
        services.approve_credit(order=order, actor=request.auth, expected_version=payload.version, note=payload.note)
    return selectors.get_order(request.auth, order_id)


@router.post("/orders/{order_id}/reject-credit", response=OrderDetail)
def reject_credit(request, order_id: Id, payload: RejectCreditIn):
    """A manager refuses the credit: the held order is cancelled with the reason."""
    order = selectors.get_order(request.auth, order_id)
    with forbidden_as_403():
        services.reject_credit(order=order, actor=request.auth, expected_version=payload.version, reason=payload.reason)
    return selectors.get_order(request.auth, order_id)


class CreditApprovalOut(Schema):
    id: int
    order_id: int
    order_number: str = Field(..., alias="order.number")
    order_version: int = Field(..., alias="order.version")
    customer: Ref
    reason: str
    freeze_reason: str
    receivable_when_held: Decimal = Field(..., alias="receivable")
    current_receivable: Decimal
    credit_limit: Decimal = Field(..., alias="customer.credit_limit")
    order_total: Decimal
    requested_by: UserRef | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_current_receivable(obj):
        return Decimal(obj.current_receivable).quantize(Decimal("0.01"))


class CreditApprovalPage(Schema):
    items: list[CreditApprovalOut]
    count: int
    count_capped: bool


@router.get("/credit-approvals", response=CreditApprovalPage)
def list_credit_approvals(request, params: Query[PageParams]):
    """Held orders awaiting a credit decision, oldest first, with what the customer owes now."""
    return page(selectors.pending_credit_approvals(request.auth), params)


class CreditNoteIn(Schema):
    note: Text(2000, min_length=1)


@router.post("/customers/{customer_id}/credit-freeze/lift", response={204: None})
def lift_credit_freeze(request, customer_id: Id, payload: CreditNoteIn):
    """A manager lifts the customer's credit freeze, saying why (422 when the credit is not frozen)."""
    customer = visible_customers(request.auth).get(pk=customer_id)
    with forbidden_as_403():
        services.lift_credit_freeze(customer=customer, actor=request.auth, note=payload.note)
    return Status(204, None)


@router.post("/customers/{customer_id}/collection-case/close", response={204: None})
def close_collection_case(request, customer_id: Id, payload: CreditNoteIn):
    """A manager closes the customer's open collection case (settled, written off…), saying why."""
    customer = visible_customers(request.auth).get(pk=customer_id)
    case = selectors.open_collection_cases(request.auth).filter(customer_id=customer.pk).first()
    if case is None:
        raise HttpError(404, _("There is no open collection case."))
    with forbidden_as_403():
        services.close_collection_case(case=case, actor=request.auth, note=payload.note)
    return Status(204, None)


# --- Payments ------------------------------------------------------------------------------

class PaymentOut(Schema):
    id: int
    customer: Ref
    order_id: int | None
    amount: Decimal
    currency: str
    paid_on: datetime.date
    method: str
    reference: str


class PaymentIn(Schema):
    customer: Id
    amount: PositiveMoney
    order: Id | None = None
    paid_on: Date | None = None
    method: PaymentMethod = "bank_transfer"
    reference: Text(100) = ""


class PaymentPage(Schema):
    items: list[PaymentOut]
    count: int
    count_capped: bool


@router.get("/payments", response=PaymentPage)
def list_payments(request, params: Query[PageParams], customer: Id | None = None, order: Id | None = None,
                  date_from: Date | None = None, date_to: Date | None = None):
    return page(selectors.payments_for(request.auth, customer=customer, order=order, date_from=date_from, date_to=date_to), params)


@router.post("/payments", response={201: PaymentOut})
def record_payment(request, payload: PaymentIn):
    user = request.auth
    customer = customer_in_view(user, payload.customer)
    order = None
    if payload.order is not None:
        order = selectors.orders_for(user).filter(pk=payload.order).first()
        if order is None:
            raise ValidationError({"order": _("Unknown order.")})
    with forbidden_as_403():
        payment = services.record_payment(customer=customer, amount=payload.amount, actor=user, order=order,
                                          paid_on=payload.paid_on, method=payload.method, reference=payload.reference)
    return Status(201, selectors.payments_for(user).get(pk=payment.pk))


# --- Receivables ---------------------------------------------------------------------------

class OverdueOut(Schema):
    order_id: int
    number: str
    due_date: datetime.date
    balance: Decimal
    days_overdue: int


class ReceivablesOut(Schema):
    customer_id: int
    currency: str
    billed: Decimal
    paid: Decimal
    balance: Decimal
    unallocated: Decimal
    credit_limit: Decimal
    available_credit: Decimal
    over_credit_limit: bool
    overdue_total: Decimal
    overdue: list[OverdueOut]
    aging: dict[str, Decimal]


@router.get("/customers/{customer_id}/receivables", response=ReceivablesOut)
def customer_receivables(request, customer_id: Id):
    return selectors.receivables_for(request.auth, customer_id)


# --- Plans, budgets, expenses --------------------------------------------------------------

class PeriodIn(Schema):
    period_start: Date
    period_end: Date
    owner: Id | None = None
    customer: Id | None = None


class SalesPlanIn(PeriodIn):
    target: Money = Field(..., ge=0)


class ExpenseBudgetIn(PeriodIn):
    amount: Money = Field(..., ge=0)


class SalesPlanOut(Schema):
    id: int
    owner_id: int | None
    customer_id: int | None
    period_start: datetime.date
    period_end: datetime.date
    target: Decimal
    currency: str


class ExpenseBudgetOut(Schema):
    id: int
    owner_id: int | None
    customer_id: int | None
    period_start: datetime.date
    period_end: datetime.date
    amount: Decimal
    currency: str


class PlanProgressOut(Schema):
    target: Decimal
    actual: Decimal
    period_start: datetime.date
    period_end: datetime.date
    elapsed_share: Decimal
    achieved_share: Decimal | None
    behind_plan: bool


class BudgetUseOut(Schema):
    budget: Decimal
    spent: Decimal
    over_budget: bool


class SalesExpenseIn(Schema):
    customer: Id
    amount: PositiveMoney
    order: Id | None = None
    category: ExpenseCategory = "other"
    spent_on: Date | None = None
    description: Text(300) = ""


class SalesExpenseOut(Schema):
    id: int
    customer_id: int
    order_id: int | None
    owner_id: int | None
    spent_on: datetime.date
    category: str
    amount: Decimal
    currency: str
    description: str


class SalesPlanPage(Schema):
    items: list[SalesPlanOut]
    count: int
    count_capped: bool


class ExpenseBudgetPage(Schema):
    items: list[ExpenseBudgetOut]
    count: int
    count_capped: bool


class SalesExpensePage(Schema):
    items: list[SalesExpenseOut]
    count: int
    count_capped: bool


def _subject(user: User, data: dict) -> dict:
    data["owner"] = user_or_422(data.get("owner"), "owner")
    if data.get("customer") is not None:
        data["customer"] = customer_in_view(user, data["customer"])
    return data


@router.get("/sales-plans", response=SalesPlanPage)
def list_sales_plans(request, params: Query[PageParams]):
    return page(selectors.sales_plans_for(request.auth), params)


@router.post("/sales-plans", response={201: SalesPlanOut})
def create_sales_plan(request, payload: SalesPlanIn):
    with forbidden_as_403():
        return Status(201, services.create_sales_plan(actor=request.auth, **_subject(request.auth, payload.dict())))


@router.get("/sales-plans/{plan_id}/progress", response=PlanProgressOut)
def sales_plan_progress(request, plan_id: Id):
    return selectors.plan_progress(request.auth, plan_id)


@router.get("/expense-budgets", response=ExpenseBudgetPage)
def list_expense_budgets(request, params: Query[PageParams]):
    return page(selectors.expense_budgets_for(request.auth), params)


@router.post("/expense-budgets", response={201: ExpenseBudgetOut})
def create_expense_budget(request, payload: ExpenseBudgetIn):
    with forbidden_as_403():
        return Status(201, services.create_expense_budget(actor=request.auth, **_subject(request.auth, payload.dict())))


@router.get("/expense-budgets/{budget_id}/use", response=BudgetUseOut)
def expense_budget_use(request, budget_id: Id):
    return selectors.budget_use(request.auth, budget_id)


@router.get("/sales-expenses", response=SalesExpensePage)
def list_sales_expenses(request, params: Query[PageParams], customer: Id | None = None, order: Id | None = None):
    return page(selectors.sales_expenses_for(request.auth, customer=customer, order=order), params)


@router.post("/sales-expenses", response={201: SalesExpenseOut})
def record_sales_expense(request, payload: SalesExpenseIn):
    user = request.auth
    customer = customer_in_view(user, payload.customer)
    order = None
    if payload.order is not None:
        order = selectors.orders_for(user).filter(pk=payload.order).first()
        if order is None:
            raise ValidationError({"order": _("Unknown order.")})
    with forbidden_as_403():
        expense = services.record_sales_expense(actor=user, customer=customer, amount=payload.amount, order=order,
                                                category=payload.category, spent_on=payload.spent_on, description=payload.description)
    return Status(201, expense)

