"""The demo-data generator: a plausible CRM book of business, the same for the same seed.

Shape of the data (so analytics have signal):
- customers buy as in the BG/NBD model: each buyer has a purchase rate drawn from a gamma
  distribution and a chance to drop out after every purchase; some never buy;
- spend per customer is log-normal (organisations ~10x persons), so revenue is Pareto-shaped:
  a few big customers bring most of it; order values vary around the customer's mean (gamma);
- buyers who dropped out long ago are mostly marked lost, with the move on their state history;
- most orders are paid on time, slow and bad payers leave overdue receivables.

Every date is anchored to `today` (default DEMO_TODAY) and every random choice comes from one
`random.Random(seed)`: the same `customers` and `seed` give the same data.
"""

import datetime
import random
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth.hashers import make_password
from django.db.models import F

from guanxi.accounts.models import Department, Role, Team, User
from guanxi.customers.models import (
    AcquisitionMode,
    Contact,
    CustomerEvent,
    CustomerSearch,
    CustomerShare,
    CustomerType,
    CustomFieldDefinition,
    Customer,
    DataSource,
    ImportantDate,
    Kind,
    LeadSource,
    PaymentTerms,
    Referrer,
    State,
    StateChange,
    Tag,
    UpgradePotential,
)
from guanxi.customers.profile import completeness
from guanxi.customers.search import build_search_text
from guanxi.demo import bulk, names
from guanxi.engagement.models import Channel, ContentType, Direction, Interaction, SalesPhase, Task
from guanxi.insights.models import WinBack
from guanxi.sales.models import (
    ExpenseBudget,
    Opportunity,
    Order,
    OrderLine,
    Payment,
    PipelineStage,
    OrderSequence,
    Product,
    ProductCategory,
    SalesExpense,
    SalesPlan,
)
from guanxi.sales.services import ORDER_NUMBER_PREFIX

DEMO_TODAY = datetime.date(2026, 11, 1)
HISTORY_DAYS = 3 * 365  # how far back the book of business goes
CHUNK = 1_000  # customers generated between flushes (all tables flushed in dependency order)
DEMO_COLLECTION_CUSTOMERS = 150  # overdue debtors escalated by the demo itself (each through the service: ~50 ms)
SHANGHAI = datetime.timedelta(hours=8)  # China has no daylight saving: local = UTC + 8
CENT = Decimal("0.01")

DEPARTMENTS = {
    "华东销售部": ("华东一组", "华东二组"),
    "华南销售部": ("华南一组", "华南二组"),
    "华北及西部销售部": ("华北组", "西部组"),
    "大客户部": ("大客户组",),
    "客户服务部": ("客服组",),
}
KEY_ACCOUNT_TEAM = "大客户组"
SERVICE_TEAM = "客服组"
TAGS = ("VIP", "老客户", "价格敏感", "高潜力", "转介绍", "展会客户", "需回访", "英文沟通", "大客户", "投诉过")
REFERRERS = (
    ("王建华（渠道代理）", "agent", "300.00"), ("李晓东（行业顾问）", "agent", "500.00"), ("陈立新", "agent", "200.00"),
    ("张明（保险代理人）", "agent", "150.00"), ("周伟", "agent", "250.00"), ("Harbor Partners Ltd.", "partner", "800.00"),
    ("上海启航商务咨询有限公司", "partner", "1000.00"), ("深圳联拓科技有限公司", "partner", "600.00"),
    ("杭州企服通有限公司", "partner", "400.00"), ("刘海燕", "agent", "180.00"),
)
CUSTOM_FIELDS = (
    # key, label, type, choices, applies to
    ("wechat_group", "已入微信群", "boolean", [], Kind.PERSON),
    ("purchase_intent", "年度采购意向（万元）", "number", [], ""),
    ("contract_expiry", "合同到期日", "date", [], Kind.ORGANISATION),
    ("segment", "行业细分", "choice", ["制造", "零售", "服务", "政府及事业单位"], Kind.ORGANISATION),
)
# category, parent, products: (sku, name, list price, cost, replacement cycle days, one-off)
CATALOGUE = (
    ("家用电器", None, (
        ("HA-101", "变频空调 1.5匹", "3299.00", "2380.00", 8 * 365, False),
        ("HA-102", "对开门冰箱 500L", "4599.00", "3350.00", 10 * 365, False),
        ("HA-103", "滚筒洗衣机 10kg", "2699.00", "1900.00", 8 * 365, False),
        ("HA-104", "空气净化器", "1599.00", "980.00", 5 * 365, False),
        ("HA-105", "净化器滤芯", "299.00", "120.00", 180, False),
    )),
    ("办公设备", None, (
        ("OF-201", "激光打印机", "1899.00", "1350.00", 5 * 365, False),
        ("OF-202", "硒鼓（黑色）", "399.00", "190.00", 90, False),
        ("OF-203", "A4 复印纸（箱）", "169.00", "120.00", 30, False),
        ("OF-204", "商用投影仪", "5999.00", "4200.00", 6 * 365, False),
        ("OF-205", "人体工学办公椅", "1299.00", "720.00", 6 * 365, False),
    )),
    ("工业耗材", None, (
        ("IN-301", "工业润滑油 18L", "680.00", "430.00", 60, False),
        ("IN-302", "劳保手套（百副）", "260.00", "150.00", 45, False),
        ("IN-303", "切削刀具套装", "2400.00", "1500.00", 120, False),
        ("IN-304", "包装纸箱（千个）", "1800.00", "1250.00", 30, False),
    )),
    ("软件与服务", None, (
        ("SW-401", "企业软件年度订阅（10用户）", "12000.00", "3000.00", 365, False),
        ("SW-402", "上门安装调试", "800.00", "350.00", None, False),
        ("SW-403", "员工培训（每天）", "6000.00", "2500.00", None, False),
        ("SW-404", "延保服务（3年）", "999.00", "200.00", 3 * 365, False),
        ("SW-405", "数据迁移项目", "45000.00", "26000.00", None, True),
    )),
    ("婚庆与礼仪", None, (
        ("EV-501", "婚礼策划套餐", "28800.00", "17000.00", None, True),
        ("EV-502", "企业年会策划", "58000.00", "36000.00", None, True),
        ("EV-503", "节日礼盒", "368.00", "210.00", 365, False),
    )),
)
LEAD_SOURCE_WEIGHTS = (
    (LeadSource.INTERNET, 16), (LeadSource.REFERRAL, 12), (LeadSource.PHONE, 10), (LeadSource.MEETING, 8),
    (LeadSource.FRIENDS, 7), (LeadSource.WEB_FORM, 9), (LeadSource.DOOR_TO_DOOR, 5), (LeadSource.DATA_LOOKUP, 5),
    (LeadSource.BIRD_DOG, 5), (LeadSource.CENTRE_OF_INFLUENCE, 4), (LeadSource.CLUB, 3), (LeadSource.CONSULTANCY, 3),
    (LeadSource.SMS, 3), (LeadSource.LETTER, 2), (LeadSource.COMPETITOR, 4), (LeadSource.IMPORT, 4),
)
INBOUND_SOURCES = {LeadSource.INTERNET, LeadSource.WEB_FORM, LeadSource.REFERRAL, LeadSource.FRIENDS,
                   LeadSource.CENTRE_OF_INFLUENCE, LeadSource.CLUB}
CHANNEL_WEIGHTS = (
    (Channel.PHONE, 25), (Channel.WECHAT, 22), (Channel.VISIT, 12), (Channel.EMAIL, 10), (Channel.MEETING, 6),
    (Channel.SMS, 6), (Channel.HOTLINE, 5), (Channel.WEB_FORM, 3), (Channel.EVENT, 3), (Channel.LETTER, 1),
    (Channel.FAX, 1), (Channel.WEIBO, 2), (Channel.SUGGESTION, 1), (Channel.COMPLAINT, 3),
)
INBOUND_CHANNELS = {Channel.HOTLINE, Channel.WEB_FORM, Channel.SUGGESTION, Channel.COMPLAINT, Channel.WEIBO}
CONTENT_WEIGHTS = ((ContentType.INFORMATION, 50), (ContentType.EMOTION, 20), (ContentType.OPINION, 15),
                   (ContentType.POLICY, 10), (ContentType.PHILOSOPHY, 5))
SUBJECTS = {
    SalesPhase.BEFORE: ("初次拜访，了解需求", "发送产品资料", "报价沟通", "邀请参加新品发布会", "Product demo follow-up", "需求调研"),
    SalesPhase.DURING: ("确认订单细节", "合同条款沟通", "交付时间确认", "付款方式确认", "Order confirmation call"),
    SalesPhase.AFTER: ("售后回访", "满意度回访", "使用培训", "节日问候", "生日祝福", "续约提醒", "Quarterly business review",
                       "投诉处理跟进", "配件更换提醒"),
}
TASK_TITLES = ("回访客户", "准备报价单", "发送合同", "催收应收款", "安排上门安装", "节日礼品寄送", "更新客户资料",
               "Follow up on proposal", "预约季度回顾会议", "处理客户建议")
LOST_REASONS = ("转向竞争对手，价格更低", "业务收缩，不再采购", "对售后服务不满意", "联系人离职，关系中断", "长期未下单")
# The reason category of each demo reason (customers.models.LostReason): derived from the text, so the
# random sequence (and every other row of the demo) stays as it was.
LOST_REASON_CATEGORIES = {"转向竞争对手，价格更低": "competitor", "业务收缩，不再采购": "need_ended", "对售后服务不满意": "service",
                          "联系人离职，关系中断": "other", "长期未下单": "other"}
OPPORTUNITY_LOST_REASONS = ("价格过高", "选择了竞争对手", "预算取消", "需求变更", "Decision postponed")
CREDIT_AGENCIES = ("中诚信国际", "大公国际", "联合资信", "东方金诚")
HOBBIES = ("羽毛球", "摄影", "旅游", "读书", "茶艺", "钓鱼", "跑步", "书法", "围棋", "烹饪", "golf", "hiking")
DEGREES = ("高中", "大专", "本科", "硕士", "博士")
SCHOOLS = ("复旦大学", "浙江大学", "南京大学", "武汉大学", "中山大学", "四川大学", "同济大学", "厦门大学", "University of Manchester")
POSITIONS = ("经理", "总监", "工程师", "主管", "教师", "医生", "会计", "设计师", "创业者", "公务员")
TRAITS = ("稳重", "外向", "注重细节", "果断", "谨慎", "热情", "理性")
CONTACT_TITLES = (("总经理", "decision_maker"), ("采购经理", "purchaser"), ("财务总监", "finance"),
                  ("技术主管", "influencer"), ("行政主管", "gatekeeper"), ("设备管理员", "user"))


def _weighted(pairs):
    return [v for v, _ in pairs], [w for _, w in pairs]


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT)


class DemoGenerator:
    """Builds the demo book of business into the default database."""

    def __init__(self, *, customers: int, seed: int, today: datetime.date = DEMO_TODAY, password: str | None = None):
        if customers < 1:
            raise ValueError("customers must be at least 1")
        self.n = customers
        self.rng = random.Random(seed)
        self.today = today
        self.password_hash = make_password(password) if password else make_password(None)
        self.counts: dict[str, int] = defaultdict(int)
        self._names_text: dict[str, str] = {}

    # --- time helpers: naive local (Asia/Shanghai) wall clock → naive UTC -----------------------

    def at(self, day: datetime.date, start_hour: int = 9, end_hour: int = 18) -> datetime.datetime:
        minute = self.rng.randrange(start_hour * 60, end_hour * 60)
        return datetime.datetime(day.year, day.month, day.day, minute // 60, minute % 60) - SHANGHAI

    def days_ago(self, low: int, high: int) -> datetime.date:
        return self.today - datetime.timedelta(days=self.rng.randint(low, high))

    # --- entry point --------------------------------------------------------------------------

    def run(self, on_progress: Callable[[int], None] = lambda advance: None) -> dict[str, int]:
        self.now = self.at(self.today, 18, 19)
        bulk.relax_durability()
        self._reference_data()
        self._tables()
        self._ids = {model: bulk.next_id(model) for model in
                     (Customer, Contact, StateChange, CustomerEvent, ImportantDate, CustomerShare, Opportunity, Order,
                      OrderLine, Payment, SalesExpense, Interaction, Task, Customer.tags.through, WinBack)}
        self.rep_revenue: dict[tuple[int, int, int], Decimal] = defaultdict(Decimal)
        self.key_customers: list[tuple[int, int, Decimal]] = []
        self.buyers: list[int] = []
        self.influencers: list[int] = []
        self.losses: list[tuple] = []
        self.order_numbers = dict(OrderSequence.objects.values_list("year", "last_number"))
        for start in range(0, self.n, CHUNK):
            for index in range(start, min(start + CHUNK, self.n)):
                self._customer(index)
            self._flush()
            on_progress(min(CHUNK, self.n - start))
        self._plans_and_budgets()
        won_back = self._win_backs()  # last: its random draws come after every other row's
        self._flush()
        self.counts[self.t_winback.name] += bulk.flush(self.t_winback)  # after its customers, changes, tasks, orders
        Customer.objects.filter(pk__in=won_back).update(state=State.CURRENT)
        for year, last_number in self.order_numbers.items():
            OrderSequence.objects.update_or_create(year=year, defaults={"last_number": last_number})
        bulk.reset_sequences(list(self._ids) + [SalesPlan, ExpenseBudget])
        from guanxi.insights.services import open_missing_winbacks

        self.counts[self.t_winback.name] += open_missing_winbacks()  # none: every demo loss has its episode already
        self._credit()
        bulk.optimise()
        return dict(self.counts)

    # --- reference data (small: through the ORM) -----------------------------------------------

    def _reference_data(self) -> None:
        created = self.at(self.today - datetime.timedelta(days=HISTORY_DAYS + 30))
        created = created.replace(tzinfo=datetime.UTC)
        self.teams: dict[str, Team] = {}
        for department_name, team_names in DEPARTMENTS.items():
            department, _ = Department.objects.get_or_create(name=department_name, defaults={"created_at": created})
            for team_name in team_names:
                self.teams[team_name], _ = Team.objects.get_or_create(
                    name=team_name, defaults={"department": department, "created_at": created}
                )
        sales_teams = [t for name, t in self.teams.items() if name not in (KEY_ACCOUNT_TEAM, SERVICE_TEAM)]
        east = Department.objects.get(name="华东销售部")
        rep_count = max(6, min(120, self.n // 800))
        self.users: dict[str, User] = {}
        self.kept_passwords: list[str] = []  # users that existed before: their passwords are left alone
        self._user("admin", Role.ADMIN, "管理员", "系统", None, created)
        self._user("demo", Role.MANAGER, "经理", "演示", self.teams["华东一组"], created, department=east)
        for i, team in enumerate([*sales_teams, self.teams[KEY_ACCOUNT_TEAM]], start=1):
            self._user(f"manager{i}", Role.MANAGER, *self._person_name(), team, created, department=team.department)
        for i in range(1, rep_count + 1):
            team = self.teams[KEY_ACCOUNT_TEAM] if i % 10 == 0 else sales_teams[i % len(sales_teams)]
            self._user(f"sales{i:03d}", Role.SALES, *self._person_name(), team, created)
        for i in range(1, 4):
            self._user(f"service{i}", Role.SERVICE, *self._person_name(), self.teams[SERVICE_TEAM], created)
        for i in range(1, 3):
            self._user(f"analyst{i}", Role.ANALYST, *self._person_name(), None, created)
        # Owners come from the demo's own users (a user made before the demo, e.g. by createsuperuser, is not one).
        sales = [self.users[f"sales{i:03d}"] for i in range(1, rep_count + 1)]
        key_team = self.teams[KEY_ACCOUNT_TEAM].pk
        self.reps = [u for u in sales if u.team_id and u.team_id != key_team]
        self.key_reps = [u for u in sales if u.team_id == key_team]
        self.agents = [self.users[f"service{i}"] for i in range(1, 4)]
        # Some reps carry a bigger book than others.
        self.rep_weights = [self.rng.uniform(0.5, 1.5) for _ in self.reps]

        self.tags = {name: Tag.objects.get_or_create(name=name, defaults={"created_at": created})[0] for name in TAGS}
        self.referrers = [
            Referrer.objects.get_or_create(
                name=name, defaults={"kind": kind, "commission_per_lead": Decimal(fee), "created_at": created,
                                     "phone": names.mobile(self.rng, 90_000_000 + i)},
            )[0]
            for i, (name, kind, fee) in enumerate(REFERRERS)
        ]
        for position, (key, label, field_type, choices, applies_to) in enumerate(CUSTOM_FIELDS):
            CustomFieldDefinition.objects.get_or_create(
                key=key, defaults={"label": label, "field_type": field_type, "choices": choices,
                                   "applies_to": applies_to, "position": position, "created_at": created},
            )
        self.products: list[Product] = []
        for category_name, parent, products in CATALOGUE:
            category, _ = ProductCategory.objects.get_or_create(name=category_name, defaults={"parent": parent, "created_at": created})
            for sku, name, price, cost, cycle, one_off in products:
                product, _ = Product.objects.get_or_create(
                    sku=sku, defaults={"name": name, "category": category, "list_price": Decimal(price), "cost": Decimal(cost),
                                       "replacement_cycle_days": cycle, "is_one_off": one_off, "created_at": created},
                )
                self.products.append(product)
        self.repeat_products = [p for p in self.products if not p.is_one_off]
        self.one_off_products = [p for p in self.products if p.is_one_off]
        stages = list(PipelineStage.objects.order_by("position"))
        self.open_stages = [s for s in stages if not s.is_closed]
        self.won_stage = next(s for s in stages if s.is_won)
        self.lost_stage = next(s for s in stages if s.is_lost)

    def _person_name(self) -> tuple[str, str]:
        gender = self.rng.choice("mf")
        full = names.chinese_name(self.rng, gender)
        surname_length = 2 if full[:2] in {s for s, _ in names.SURNAMES if len(s) == 2} else 1
        return full[surname_length:], full[:surname_length]

    def _user(self, username, role, first_name, last_name, team, created, department=None) -> None:
        user, made = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "first_name": first_name, "last_name": last_name, "team": team,
                      "department": department, "is_staff": role == Role.ADMIN, "is_superuser": role == Role.ADMIN,
                      "password": self.password_hash, "date_joined": created},
        )
        self.users[username] = user
        if not made:
            self.kept_passwords.append(username)

    # --- the big tables -----------------------------------------------------------------------

    def _tables(self) -> None:
        T = bulk.Table
        self.t_customer = T(Customer, [
            "id", "kind", "name", "state", "owner", "team", "phone", "email", "uscc", "province", "city", "address",
            "gender", "birthday", "industry", "employees", "source", "data_source", "acquisition_mode", "referred_by",
            "referrer", "customer_type", "upgrade_potential", "payment_terms", "payment_days", "credit_limit", "currency",
            "credit_rating", "credit_rating_source", "credit_rating_date", "marketing_consent", "opted_out_at", "profile",
            "custom_fields", "notes", "completeness", "last_verified_at", "version", "created_at", "updated_at"])
        self.t_tags = T(Customer.tags.through, ["id", "customer", "tag"])
        self.t_search = T(CustomerSearch, ["customer", "owner_id", "team_id", "text"])
        self.t_share = T(CustomerShare, ["id", "customer", "user", "created_at", "updated_at"])
        self.t_contact = T(Contact, ["id", "customer", "name", "title", "role", "phone", "email", "wechat", "birthday",
                                     "is_primary", "notes", "version", "created_at", "updated_at"])
        self.t_state = T(StateChange, ["id", "customer", "from_state", "to_state", "reason", "reason_category", "actor", "changed_at"])
        self.t_event = T(CustomerEvent, ["id", "customer", "verb", "summary", "actor", "occurred_at"])
        self.t_date = T(ImportantDate, ["id", "customer", "label", "date", "recurring", "created_at", "updated_at"])
        self.t_opportunity = T(Opportunity, ["id", "customer", "title", "stage", "amount", "currency", "probability",
                                             "expected_close", "owner", "closed_at", "lost_reason", "notes", "version",
                                             "created_at", "updated_at"])
        self.t_order = T(Order, ["id", "number", "customer", "opportunity", "owner", "status", "order_date", "due_date",
                                 "currency", "total", "discount_total", "cost_total", "amount_paid", "promised_delivery",
                                 "delivered_on", "notes", "version", "created_at", "updated_at"])
        self.t_line = T(OrderLine, ["id", "order", "product", "quantity", "unit_price", "list_price", "unit_cost", "line_total",
                                    "batch"])
        self.t_payment = T(Payment, ["id", "customer", "order", "amount", "currency", "paid_on", "method", "reference",
                                     "recorded_by", "created_at", "updated_at"])
        self.t_expense = T(SalesExpense, ["id", "customer", "order", "owner", "spent_on", "category", "amount", "currency",
                                          "description", "created_at", "updated_at"])
        self.t_interaction = T(Interaction, ["id", "customer", "contact", "channel", "direction", "content_type", "phase",
                                             "subject", "body", "occurred_at", "actor", "created_at", "updated_at"])
        self.t_task = T(Task, ["id", "title", "description", "customer", "opportunity", "assignee", "assignee_team",
                               "due_at", "priority", "status", "completed_at", "created_by", "version", "created_at",
                               "updated_at"])
        self.t_winback = T(WinBack, ["id", "customer", "lost_change", "lost_on", "reason_category", "owner", "status",
                                     "task", "started_at", "started_by", "ended_on", "outcome", "won_back_order",
                                     "revenue_regained", "note", "created_at", "updated_at"])
        self.t_plan = T(SalesPlan, ["owner", "customer", "period_start", "period_end", "target", "currency",
                                    "created_at", "updated_at"])
        self.t_budget = T(ExpenseBudget, ["owner", "customer", "period_start", "period_end", "amount", "currency",
                                          "created_at", "updated_at"])

    def _flush(self) -> None:
        """Write every buffer, parents before children (foreign keys are checked at commit)."""
        for table in (self.t_customer, self.t_tags, self.t_search, self.t_share, self.t_contact, self.t_state,
                      self.t_event, self.t_date, self.t_opportunity, self.t_order, self.t_line, self.t_payment,
                      self.t_expense, self.t_interaction, self.t_task, self.t_plan, self.t_budget):
            self.counts[table.name] += bulk.flush(table)

    def _next(self, model) -> int:
        value = self._ids[model]
        self._ids[model] = value + 1
        return value

    # --- one customer and everything hanging off it ---------------------------------------------

    def _customer(self, index: int) -> None:
        rng = self.rng
        cid = self._next(Customer)
        is_org = rng.random() < 0.2
        english = rng.random() < 0.1
        province, city, division = names.city(rng)
        gender = "" if is_org else rng.choice("mf")
        if is_org:
            name, industry = names.company_name(rng, city, english)
        else:
            name = names.english_name(rng, gender) if english else names.chinese_name(rng, gender)
            industry = ""
        base_text = self._name_text(name)

        # Purchase behaviour (BG/NBD): rate per year ~ gamma, dropout after each purchase ~ beta.
        buyer = rng.random() < (0.8 if is_org else 0.68)
        spend = rng.lognormvariate(9.2 if is_org else 6.9, 1.0)  # mean order value
        payer = rng.choices(("good", "slow", "bad"), (85, 12, 3))[0]
        order_dates: list[datetime.date] = []
        dropped = False
        if buyer:
            rate = rng.gammavariate(0.9, 1 / 0.06)  # purchases per year: mean ≈ 15, long right tail
            dropout = rng.betavariate(1.1, 24)
            day = rng.uniform(0, HISTORY_DAYS - 7)
            while day > 0:
                order_dates.append(self.today - datetime.timedelta(days=int(day)))
                if rng.random() < dropout:
                    dropped = True
                    break
                day -= rng.expovariate(rate / 365) + 1
        first_order = order_dates[0] if order_dates else None
        created_day = (first_order - datetime.timedelta(days=rng.randint(0, 120)) if first_order
                       else self.days_ago(0, HISTORY_DAYS))
        created_at = self.at(created_day)

        # Owner: big spenders go to the key-account team.
        key_account = bool(is_org and buyer and spend > 40_000 and self.key_reps)
        owner = rng.choice(self.key_reps) if key_account else rng.choices(self.reps, self.rep_weights)[0]

        # Lifecycle state and its history, ending in the current state.
        state, history = self._state_history(created_at, order_dates, dropped)

        source = rng.choices(*_weighted(LEAD_SOURCE_WEIGHTS))[0]
        referred_by = referrer = None
        if source == LeadSource.CENTRE_OF_INFLUENCE and self.influencers:
            referred_by = rng.choice(self.influencers)
        elif source == LeadSource.REFERRAL and self.buyers:
            referred_by = rng.choice(self.buyers[-5000:])
        elif source == LeadSource.BIRD_DOG:
            referrer = rng.choice(self.referrers).pk
        if buyer and len(self.influencers) < 50 and rng.random() < 0.01:
            self.influencers.append(cid)

        phone = names.mobile(rng, index) if rng.random() < (0.8 if is_org else 0.92) else ""
        handle = "info" if is_org else max((p for p in base_text.split(" | ") if p.isascii() and p.isalpha()), key=len, default="")
        email = names.email(rng, handle, index) if rng.random() < 0.6 else ""
        uscc = names.credit_code(rng, division, index) if is_org else ""
        birthday = None if is_org or rng.random() < 0.3 else datetime.date(
            self.today.year - rng.randint(22, 70), rng.randint(1, 12), rng.randint(1, 28))
        employees = int(rng.lognormvariate(4, 1.3)) + 1 if is_org else None
        customer_type = (CustomerType.KEY_ACCOUNT if key_account else
                         rng.choices((CustomerType.TRANSACTIONAL, CustomerType.RELATIONSHIP, ""), (50, 35, 15))[0])
        terms, days = ((rng.choices((PaymentTerms.NET, PaymentTerms.INSTALMENTS, PaymentTerms.PREPAY), (70, 15, 15))[0],
                        rng.choice((30, 60, 90))) if is_org else
                       (rng.choices((PaymentTerms.CASH, PaymentTerms.PREPAY, PaymentTerms.NET), (70, 20, 10))[0], 15))
        if terms in (PaymentTerms.CASH, PaymentTerms.PREPAY):
            days = 0
        credit_limit = _money(round(spend * rng.uniform(2, 6), -3)) if terms in (PaymentTerms.NET, PaymentTerms.INSTALMENTS) else Decimal("0.00")
        rated = is_org and rng.random() < 0.6
        consent = rng.random() < 0.7
        opted_out = None if consent or rng.random() < 0.8 else self.at(self.days_ago(1, 400))
        profile = self._profile(is_org, name, gender)
        custom = self._custom_fields(is_org)
        record = SimpleNamespace(kind=Kind.ORGANISATION if is_org else Kind.PERSON, profile=profile, phone=phone,
                                 email=email, city=city, gender=gender, birthday=birthday, source=source, uscc=uscc,
                                 industry=industry, employees=employees)
        verified = self.at(self.days_ago(0, 500)) if rng.random() < 0.5 else None
        self.t_customer.add(
            cid, record.kind, name, state, owner.pk, owner.team_id, phone, email, uscc, province, city,
            names.address(rng, city) if rng.random() < 0.7 else "", gender, birthday, industry, employees, source,
            rng.choice(DataSource.values), AcquisitionMode.INBOUND if source in INBOUND_SOURCES else AcquisitionMode.OUTBOUND,
            referred_by, referrer, customer_type, rng.choices(UpgradePotential.values, (50, 30, 20))[0], terms, days,
            credit_limit, "CNY", rng.choice(("AAA", "AA", "A", "BBB", "BB")) if rated else "",
            rng.choice(CREDIT_AGENCIES) if rated else "", self.days_ago(10, 700) if rated else None, consent, opted_out,
            profile, custom, "重要客户，逢年过节寄礼盒。" if rng.random() < 0.05 else "", completeness(record), verified,
            1, created_at, max(created_at, verified or created_at),
        )
        for tag in self._tags(is_org, buyer, spend, source, english, state):
            self.t_tags.add(self._next(Customer.tags.through), cid, self.tags[tag].pk)
        for from_state, to_state, reason, when in history:
            category = self._lost_category(cid, reason) if to_state == State.LOST else ""
            change_id = self._next(StateChange)
            self.t_state.add(change_id, cid, from_state, to_state, reason, category, owner.pk, when)
            if to_state == State.LOST:
                self.losses.append((change_id, cid, owner, when, category, spend, payer, is_org, terms, days))
        if verified:
            self.t_event.add(self._next(CustomerEvent), cid, "verified", "资料已核实", owner.pk, verified)
        if rng.random() < 0.03:
            other = rng.choice(self.reps + self.agents)
            if other.pk != owner.pk:
                self.t_share.add(self._next(CustomerShare), cid, other.pk, created_at, created_at)
                self.t_event.add(self._next(CustomerEvent), cid, "shared", f"共享给 {other}", owner.pk, created_at)

        contacts = self._contacts(cid, is_org, name, created_at)
        if is_org and rng.random() < 0.4:
            founded = datetime.date(self.today.year - rng.randint(2, 30), rng.randint(1, 12), rng.randint(1, 28))
            self.t_date.add(self._next(ImportantDate), cid, "公司成立纪念日", founded, True, created_at, created_at)
        if not is_org and rng.random() < 0.2:
            wedding = datetime.date(self.today.year - rng.randint(1, 30), rng.randint(1, 12), rng.randint(1, 28))
            self.t_date.add(self._next(ImportantDate), cid, "结婚纪念日", wedding, True, created_at, created_at)
        if first_order and rng.random() < 0.3:
            self.t_date.add(self._next(ImportantDate), cid, "合作纪念日", first_order, True, created_at, created_at)

        revenue = self._orders(cid, owner, order_dates, spend, payer, is_org, terms, days, referrer)
        if buyer:
            self.buyers.append(cid)
            if key_account or customer_type == CustomerType.KEY_ACCOUNT:
                self.key_customers.append((cid, owner.pk, revenue))
        self._opportunities(cid, owner, state, spend, created_at)
        self._interactions(cid, owner, contacts, created_at, order_dates, is_org)
        self._tasks(cid, owner, created_at)

        contact_phones = [c[1] for c in contacts]
        contact_emails = [c[2] for c in contacts]
        contact_names = [c[3] for c in contacts]
        rest = build_search_text(name="", phones=[phone, *contact_phones], emails=[email, *contact_emails],
                                 extra=[uscc, *contact_names])
        self.t_search.add(cid, owner.pk, owner.team_id, _join_unique(base_text, rest))

    def _name_text(self, name: str) -> str:
        """The name's part of the search text; pinyin is slow, so once per distinct name."""
        text = self._names_text.get(name)
        if text is None:
            text = self._names_text[name] = build_search_text(name=name)
        return text

    @staticmethod
    def _lost_category(cid: int, reason: str) -> str:
        """The reason category of a demo loss. "No order for a long time" says nothing of the cause, so the
        owner's finding varies by customer (not by the random sequence, which stays as it was)."""
        if reason == "长期未下单":
            return ("price", "product", "moved_closed", "payment")[cid % 4]
        return LOST_REASON_CATEGORIES.get(reason, "other")

    def _state_history(self, created_at, order_dates, dropped):
        rng = self.rng
        history = []
        if not order_dates:
            state = rng.choices((State.NON, State.POTENTIAL, State.TARGET), (20, 50, 30))[0]
            if state == State.NON:
                return state, [("", State.NON, "资料导入", created_at)]
            history.append(("", State.POTENTIAL, "新线索", created_at))
            if state == State.TARGET:
                moved = min(created_at + datetime.timedelta(days=rng.randint(3, 90)), self.now)
                history.append((State.POTENTIAL, State.TARGET, "符合目标客户标准，列入开发计划", moved))
            return state, history
        history.append(("", State.POTENTIAL, "新线索", created_at))
        first = max(self.at(order_dates[0]), created_at + datetime.timedelta(minutes=30))
        if rng.random() < 0.6:
            moved = created_at + (first - created_at) / 2
            history.append((State.POTENTIAL, State.TARGET, "需求明确，进入跟进", moved))
            history.append((State.TARGET, State.CURRENT, "首次成交", first))
        else:
            history.append((State.POTENTIAL, State.CURRENT, "首次成交", first))
        state = State.CURRENT
        silent_since = order_dates[-1]
        if dropped and (self.today - silent_since).days > 300 and rng.random() < 0.7:
            lost_day = silent_since + datetime.timedelta(days=rng.randint(180, 300))
            history.append((State.CURRENT, State.LOST, rng.choice(LOST_REASONS), self.at(lost_day)))
            state = State.LOST
        return state, history

    def _profile(self, is_org: bool, name: str, gender: str) -> dict:
        rng = self.rng
        profile = {}
        if is_org:
            if rng.random() < 0.7:
                profile["basic"] = {"legal_name": name, "legal_representative": "".join(reversed(self._person_name())),
                                    "registered_capital": str(rng.choice((100, 500, 1000, 5000, 10000)) * 10000),
                                    "ownership": rng.choice(("民营", "国有", "外资", "合资"))}
            if rng.random() < 0.5:
                profile["characteristics"] = {"scale": rng.choice(("小型", "中型", "大型")),
                                              "market_position": rng.choice(("行业领先", "区域龙头", "成长型"))}
            if rng.random() < 0.4:
                profile["business_status"] = {"main_products": rng.sample(["电子元件", "服装", "机械配件", "软件", "食品", "建材"], 2),
                                              "annual_revenue": str(rng.randint(5, 5000) * 100000), "growth": rng.choice(("上升", "平稳", "下滑"))}
            if rng.random() < 0.3:
                profile["transaction_status"] = {"credit_history": rng.choice(("良好", "一般", "曾有逾期")),
                                                 "payment_record": rng.choice(("按时", "偶有延迟"))}
            if rng.random() < 0.5:
                profile["decision_maker"] = {"name": "".join(reversed(self._person_name())), "title": rng.choice(("总经理", "董事长", "采购总监")),
                                             "age": rng.randint(30, 65), "hobbies": rng.sample(HOBBIES, 2),
                                             "decision_style": rng.choice(("果断", "谨慎", "民主"))}
            return profile
        if rng.random() < 0.6:
            profile["basic"] = {"native_place": rng.choice(names.CITIES)[1],
                                "marital_status": rng.choice(("已婚", "未婚")), "wechat": f"wx_{rng.randrange(10**6, 10**7)}"}
        if rng.random() < 0.5:
            profile["consumption"] = {"monthly_budget": str(rng.choice((500, 1000, 2000, 5000))),
                                      "purchase_channels": rng.sample(["门店", "官网", "天猫", "京东", "微信小程序"], 2),
                                      "price_sensitivity": rng.choice(("高", "中", "低"))}
        if rng.random() < 0.4:
            profile["education"] = {"highest_degree": rng.choice(DEGREES), "school": rng.choice(SCHOOLS),
                                    "graduation_year": rng.randint(1975, 2022)}
        if rng.random() < 0.4:
            profile["career"] = {"position": rng.choice(POSITIONS), "income_range": rng.choice(("10万以下", "10-30万", "30-100万", "100万以上"))}
        if rng.random() < 0.3:
            profile["family"] = {"children": rng.randint(0, 3), "family_size": rng.randint(1, 6)}
        if rng.random() < 0.3:
            profile["life"] = {"hobbies": rng.sample(HOBBIES, rng.randint(1, 3)), "car": rng.choice(("有", "无"))}
        if rng.random() < 0.2:
            profile["personality"] = {"traits": rng.sample(TRAITS, 2), "communication_style": rng.choice(("直接", "委婉"))}
        if rng.random() < 0.1:
            profile["social"] = {"associations": [rng.choice(("商会", "校友会", "车友会", "读书会"))]}
        return profile

    def _custom_fields(self, is_org: bool) -> dict:
        rng = self.rng
        values = {}
        if rng.random() < 0.4:
            values["purchase_intent"] = str(rng.randint(1, 500))
        if is_org:
            if rng.random() < 0.5:
                values["segment"] = rng.choice(CUSTOM_FIELDS[3][3])
            if rng.random() < 0.3:
                values["contract_expiry"] = (self.today + datetime.timedelta(days=rng.randint(-60, 700))).isoformat()
        elif rng.random() < 0.5:
            values["wechat_group"] = rng.random() < 0.6
        return values

    def _tags(self, is_org, buyer, spend, source, english, state) -> list[str]:
        rng = self.rng
        tags = []
        if buyer and spend > (30_000 if is_org else 3_000):
            tags.append("VIP")
        if is_org and spend > 40_000:
            tags.append("大客户")
        if source in (LeadSource.REFERRAL, LeadSource.CENTRE_OF_INFLUENCE):
            tags.append("转介绍")
        if source == LeadSource.MEETING and rng.random() < 0.5:
            tags.append("展会客户")
        if english:
            tags.append("英文沟通")
        if state == State.CURRENT and rng.random() < 0.3:
            tags.append("老客户")
        for tag in ("价格敏感", "高潜力", "需回访", "投诉过"):
            if rng.random() < 0.06:
                tags.append(tag)
        return tags

    def _contacts(self, cid, is_org, customer_name, created_at) -> list[tuple]:
        """Returns (id, phone, e-mail, name) of the contacts written."""
        rng = self.rng
        count = rng.choices((1, 2, 3, 4), (40, 30, 20, 10))[0] if is_org else (1 if rng.random() < 0.15 else 0)
        contacts = []
        for position in range(count):
            contact_id = self._next(Contact)
            gender = rng.choice("mf")
            english = not customer_name[:1] or customer_name[:1].isascii()
            name = names.english_name(rng, gender) if english and rng.random() < 0.7 else names.chinese_name(rng, gender)
            title, role = CONTACT_TITLES[position] if is_org else ("配偶", "other")
            phone = names.mobile(rng, 50_000_000 + contact_id) if rng.random() < 0.85 else ""
            email = names.email(rng, "contact", contact_id) if rng.random() < 0.5 else ""
            birthday = datetime.date(self.today.year - rng.randint(25, 60), rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 0.3 else None
            self.t_contact.add(contact_id, cid, name, title, role, phone, email,
                               f"wx{contact_id}" if rng.random() < 0.5 else "", birthday, position == 0, "", 1,
                               created_at, created_at)
            contacts.append((contact_id, phone, email, name))
        return contacts

    def _orders(self, cid, owner, order_dates, spend, payer, is_org, terms, days, referrer) -> Decimal:
        rng = self.rng
        revenue = Decimal(0)
        affinity = rng.sample(self.repeat_products, 4)  # a customer keeps buying from a few products
        for number, day in enumerate(order_dates):
            order_id = self._next(Order)
            target = spend * rng.gammavariate(4, 0.25)
            if not is_org and number == 0 and rng.random() < 0.02:
                lines = [(rng.choice(self.one_off_products), target)]
            else:
                picks = rng.sample(affinity, rng.choices((1, 2, 3), (55, 30, 15))[0])
                shares = [rng.random() + 0.2 for _ in picks]
                lines = [(p, target * s / sum(shares)) for p, s in zip(picks, shares)]
            total = discount = cost = Decimal(0)
            batch = f"B{day.year}{day.month:02d}"  # the lot shipped: one per month of production, for incident notices
            for product, amount in lines:
                quantity = max(1, min(500, round(amount / float(product.list_price))))
                rate = rng.choices((Decimal(0), Decimal("0.05"), Decimal("0.10"), Decimal("0.15")), (55, 25, 15, 5))[0]
                unit_price = _money(product.list_price * (1 - rate))
                line_total = unit_price * quantity
                total += line_total
                discount += (product.list_price - unit_price) * quantity
                cost += product.cost * quantity
                self.t_line.add(self._next(OrderLine), order_id, product.pk, Decimal(quantity), unit_price,
                                product.list_price, product.cost, line_total, batch)
            age = (self.today - day).days
            cancelled = rng.random() < 0.015
            status = (Order.Status.CANCELLED if cancelled else Order.Status.DELIVERED if age > 14
                      else Order.Status.CONFIRMED)
            promised = day + datetime.timedelta(days=rng.randint(3, 14))
            delivered = None
            if status == Order.Status.DELIVERED:
                delivered = promised + datetime.timedelta(days=rng.choices((-2, -1, 0, 2, 7), (20, 30, 35, 10, 5))[0])
                delivered = min(max(delivered, day), self.today)
            due = day + datetime.timedelta(days=days)
            created = self.at(day)
            paid = Decimal(0) if cancelled else self._payments(cid, order_id, owner, total, due, payer, terms)
            number = self.order_numbers[day.year] = self.order_numbers.get(day.year, 0) + 1
            self.t_order.add(order_id, f"{ORDER_NUMBER_PREFIX}-{day.year}-{number:06d}", cid, None, owner.pk, status, day, due,
                             "CNY", total, discount, cost, paid, promised, delivered, "", 1, created, created)
            if not cancelled:
                revenue += total
                quarter = (day.month - 1) // 3
                self.rep_revenue[(owner.pk, day.year, quarter)] += total
            if is_org and rng.random() < 0.2:
                category = rng.choice(("travel", "entertainment", "gifts", "samples"))
                self.t_expense.add(self._next(SalesExpense), cid, order_id, owner.pk, day, category,
                                   _money(float(total) * rng.uniform(0.005, 0.04)), "CNY", "", created, created)
        if referrer and order_dates:
            commission = next(r.commission_per_lead for r in self.referrers if r.pk == referrer)
            when = self.at(order_dates[0])
            self.t_expense.add(self._next(SalesExpense), cid, None, owner.pk, order_dates[0], "commission",
                               commission, "CNY", "介绍佣金", when, when)
        return revenue

    def _payments(self, cid, order_id, owner, total, due, payer, terms) -> Decimal:
        """Record the payments made by `today`; returns the amount paid (what the order keeps)."""
        rng = self.rng
        delay = {"good": rng.randint(-5, 3), "slow": rng.randint(10, 90), "bad": rng.randint(30, 400)}[payer]
        if payer == "bad" and rng.random() < 0.5:
            return Decimal(0)
        pay_day = due + datetime.timedelta(days=delay)
        instalments = 2 if terms == PaymentTerms.INSTALMENTS or rng.random() < 0.08 else 1
        first = _money(total / 2) if instalments == 2 else total
        parts = [(pay_day, first)]
        if instalments == 2:
            parts.append((pay_day + datetime.timedelta(days=rng.randint(20, 60)), total - first))
        paid = Decimal(0)
        method = rng.choices(("bank_transfer", "alipay", "wechat_pay", "cash", "card", "cheque"), (40, 20, 20, 8, 10, 2))[0]
        for day, amount in parts:
            if day > self.today or amount <= 0:
                break
            when = self.at(day)
            self.t_payment.add(self._next(Payment), cid, order_id, amount, "CNY", day, method, "", owner.pk, when, when)
            paid += amount
        return paid

    def _opportunities(self, cid, owner, state, spend, created_at) -> None:
        rng = self.rng
        plans = []
        if state in (State.TARGET, State.CURRENT) and rng.random() < 0.3:
            plans.append("open")
        if state == State.CURRENT and rng.random() < 0.4:
            plans.append("won")
        if state != State.NON and rng.random() < 0.12:
            plans.append("lost")
        for kind in plans:
            amount = _money(spend * rng.uniform(1, 4))
            opened = max(created_at, self.at(self.days_ago(10, HISTORY_DAYS)))
            if kind == "open":
                stage = rng.choice(self.open_stages)
                expected = self.today + datetime.timedelta(days=rng.randint(-20, 120))
                closed, reason = None, ""
            else:
                stage = self.won_stage if kind == "won" else self.lost_stage
                closed = min(opened + datetime.timedelta(days=rng.randint(7, 120)), self.now)
                expected, reason = closed.date(), "" if kind == "won" else rng.choice(OPPORTUNITY_LOST_REASONS)
            title = rng.choice(("年度采购", "设备更新", "新项目合作", "续约", "追加订单", "Pilot project"))
            self.t_opportunity.add(self._next(Opportunity), cid, title, stage.pk, amount, "CNY", stage.probability,
                                   expected, owner.pk, closed, reason, "", 1, opened, closed or opened)

    def _interactions(self, cid, owner, contacts, created_at, order_dates, is_org) -> None:
        rng = self.rng
        count = min(12, rng.randint(0, 3) + len(order_dates) // 2)
        channels, channel_weights = _weighted(CHANNEL_WEIGHTS)
        contents, content_weights = _weighted(CONTENT_WEIGHTS)
        start = created_at
        span = max(1, int((self.now - start).total_seconds()))
        first_order = self.at(order_dates[0]) if order_dates else None
        for _ in range(count):
            when = start + datetime.timedelta(seconds=rng.randrange(span))
            channel = rng.choices(channels, channel_weights)[0]
            inbound = channel in INBOUND_CHANNELS or rng.random() < 0.25
            if first_order is None or when < first_order - datetime.timedelta(days=7):
                phase = SalesPhase.BEFORE
            elif when <= first_order + datetime.timedelta(days=7):
                phase = SalesPhase.DURING
            else:
                phase = SalesPhase.AFTER
            content = ContentType.OPINION if channel in (Channel.COMPLAINT, Channel.SUGGESTION) else rng.choices(contents, content_weights)[0]
            actor = rng.choice(self.agents) if inbound and channel in (Channel.HOTLINE, Channel.COMPLAINT) else owner
            contact = rng.choice(contacts)[0] if contacts and rng.random() < 0.7 else None
            subject = "客户投诉：交货延迟" if channel == Channel.COMPLAINT else rng.choice(SUBJECTS[phase])
            self.t_interaction.add(self._next(Interaction), cid, contact, channel,
                                   Direction.INBOUND if inbound else Direction.OUTBOUND, content, phase, subject, "",
                                   when, actor.pk, when, when)

    def _tasks(self, cid, owner, created_at) -> None:
        rng = self.rng
        if rng.random() > 0.35:
            return
        for _ in range(rng.randint(1, 2)):
            due = self.at(self.today + datetime.timedelta(days=rng.randint(-60, 30)))
            created = min(max(created_at, due - datetime.timedelta(days=rng.randint(1, 20))), self.now)
            if due <= self.now:
                status = rng.choices((Task.Status.DONE, Task.Status.OPEN, Task.Status.CANCELLED), (75, 20, 5))[0]
            else:
                status = Task.Status.OPEN
            completed = min(due + datetime.timedelta(hours=rng.randint(-48, 72)), self.now) if status == Task.Status.DONE else None
            completed = max(completed, created) if completed else None
            team_task = rng.random() < 0.1
            self.t_task.add(self._next(Task), rng.choice(TASK_TITLES), "", cid, None, None if team_task else owner.pk,
                            owner.team_id if team_task else None, due, rng.choices((1, 2, 3), (20, 60, 20))[0], status,
                            completed, owner.pk, 1, created, completed or created)

    # --- win-back of lost customers ----------------------------------------------------------------

    def _win_backs(self) -> list[int]:
        """Each demo loss gets its win-back episode (insights.WinBack). Of the losses older than 45
        days, about half were worked on: a win-back task for the owner with the steps; a third of
        those customers bought again (a new order weeks later: won back), a quarter were given up
        with a note, the rest are still in progress. Returns the customers won back (now current)."""
        from guanxi.insights.services import winback_steps

        rng = self.rng
        won_back = []
        for change_id, cid, owner, lost_at, category, spend, payer, is_org, terms, days in self.losses:
            lost_on = (lost_at + SHANGHAI).date()
            row = dict(status="open", task=None, started_at=None, started_by=None, ended_on=None, outcome="",
                       order=None, revenue=Decimal("0.00"), note="")
            if (self.today - lost_on).days > 45 and rng.random() < 0.5:
                started = min(lost_at + datetime.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 6)), self.now)
                fate = rng.choices(("won", "given_up", "working"), (33, 25, 42))[0]
                back_on = (started + SHANGHAI).date() + datetime.timedelta(days=rng.randint(7, 90))
                if fate == "won" and back_on > self.today:
                    fate = "working"
                done = {"won": Task.Status.DONE, "given_up": Task.Status.CANCELLED}.get(fate, Task.Status.OPEN)
                closed = self.at(back_on) if fate == "won" else min(started + datetime.timedelta(days=rng.randint(10, 60)), self.now)
                task_id = self._next(Task)
                self.t_task.add(task_id, "挽回客户 Win back", winback_steps(category), cid, None, owner.pk, None,
                                started + datetime.timedelta(days=7), Task.Priority.HIGH, done,
                                closed if done == Task.Status.DONE else None, owner.pk, 1, started,
                                closed if done != Task.Status.OPEN else started)
                row.update(status="in_progress", task=task_id, started_at=started, started_by=owner.pk)
                if fate == "won":
                    order_id = self._ids[Order]
                    revenue = self._orders(cid, owner, [back_on], spend, payer, is_org, terms, days, None)
                if fate == "won" and revenue > 0:  # (a cancelled order wins nobody back: still in progress)
                    self.t_state.add(self._next(StateChange), cid, State.LOST, State.CURRENT, "重新下单，挽回成功", "",
                                     owner.pk, closed)
                    row.update(status="won_back", ended_on=back_on, outcome="order", order=order_id, revenue=_money(revenue))
                    won_back.append(cid)
                elif fate == "given_up":
                    row.update(status="given_up", ended_on=(closed + SHANGHAI).date(),
                               note=rng.choice(("客户已转向长期合作的竞争对手", "公司已注销", "多次联系无回应", "需求已不存在")))
            self.t_winback.add(self._next(WinBack), cid, change_id, lost_on, category, owner.pk, row["status"], row["task"],
                               row["started_at"], row["started_by"], row["ended_on"], row["outcome"], row["order"],
                               row["revenue"], row["note"], lost_at, row["started_at"] or lost_at)
        return won_back

    # --- credit: collection of overdue debts, orders held for approval ------------------------------

    def _credit(self) -> None:
        """Through the sales services, so the rows are what users would see: the oldest overdue
        debtors escalated as of today (the daily job escalates the rest on the worker's first run),
        and orders over a customer's credit limit or for a frozen customer waiting for approval —
        a few already decided by the administrator, one freeze lifted."""
        from guanxi.sales import services as sales
        from guanxi.sales.models import CollectionCase, CreditApproval, Product
        from guanxi.sales.selectors import BILLED_STATUSES

        overdue = (Order.objects.filter(status__in=BILLED_STATUSES, due_date__lt=self.today, total__gt=F("amount_paid"))
                   .order_by("customer_id").values_list("customer_id", flat=True).distinct()[:DEMO_COLLECTION_CUSTOMERS])
        sales.escalate_collections(today=self.today, customer_ids=list(overdue))
        admin = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
        product = Product.objects.filter(is_active=True).order_by("sku").first()
        if admin is None or product is None:
            return
        frozen = list(CollectionCase.objects.filter(closed_at__isnull=True, frozen_at__isnull=False)
                      .order_by("customer_id").values_list("customer_id", flat=True)[:3])
        limited = list(Customer.objects.filter(credit_limit__gt=0, owner__isnull=False).exclude(pk__in=frozen)
                       .order_by("pk").values_list("pk", flat=True)[:5])
        held = []
        for cid in frozen + limited:
            customer = Customer.objects.select_related("owner").get(pk=cid)
            quantity = 1 if cid in frozen else int(customer.credit_limit / product.list_price) + 2 if product.list_price else 1
            order = sales.create_order(customer=customer, lines=[{"product": product, "quantity": quantity}],
                                       actor=customer.owner, order_date=self.today, notes="")
            if order.status == Order.Status.CREDIT_HOLD:
                held.append(order)
        for order in held[-2:-1]:
            sales.approve_credit(order=order, actor=admin, expected_version=order.version, note="老客户，月底前回款")
        for order in held[-1:]:
            sales.reject_credit(order=order, actor=admin, expected_version=order.version, reason="欠款未清，暂停赊销")
        if frozen:
            sales.lift_credit_freeze(customer=Customer.objects.get(pk=frozen[0]), actor=admin, note="已签还款计划")
        self.counts[CreditApproval._meta.db_table] += len(held)

    # --- plans and budgets -----------------------------------------------------------------------

    def _plans_and_budgets(self) -> None:
        """Quarterly targets per rep near what they sold (some behind plan), annual ones for key accounts."""
        rng = self.rng
        quarter = (self.today.month - 1) // 3
        periods = []
        for back in range(7, -2, -1):  # last 7 quarters, this one and the next
            y, q = divmod(self.today.year * 4 + quarter - back, 4)
            start = datetime.date(y, q * 3 + 1, 1)
            end = (datetime.date(y + (q == 3), (q * 3 + 3) % 12 + 1, 1) - datetime.timedelta(days=1))
            periods.append((y, q, start, end))
        created = self.now
        for rep in self.reps + self.key_reps:
            recent = [self.rep_revenue.get((rep.pk, y, q), Decimal(0)) for y, q, _s, _e in periods[-4:-1]]
            typical = max(recent) if any(recent) else Decimal(50_000)
            for y, q, start, end in periods:
                sold = self.rep_revenue.get((rep.pk, y, q)) or typical
                target = _money(round(float(sold) * rng.uniform(0.9, 1.25), -3))
                self.t_plan.add(rep.pk, None, start, end, target, "CNY", created, created)
                self.t_budget.add(rep.pk, None, start, end, _money(round(float(target) * 0.03, -2)), "CNY", created, created)
        year_start, year_end = datetime.date(self.today.year, 1, 1), datetime.date(self.today.year, 12, 31)
        for cid, owner_id, revenue in self.key_customers[:500]:
            target = _money(round(float(revenue) / 3 * rng.uniform(0.9, 1.3) + 10_000, -3))
            self.t_plan.add(owner_id, cid, year_start, year_end, target, "CNY", created, created)
            self.t_budget.add(owner_id, cid, year_start, year_end, _money(round(float(target) * 0.02, -2)), "CNY", created, created)


def _join_unique(*texts: str) -> str:
    """Concatenate search texts the way build_search_text would have in one call."""
    seen, parts = set(), []
    for text in texts:
        for part in text.split(" | ") if text else ():
            if part not in seen:
                seen.add(part)
                parts.append(part)
    return " | ".join(parts)


def has_customers() -> bool:
    return Customer.objects.exists()


def generate(*, customers: int, seed: int, today: datetime.date = DEMO_TODAY, password: str | None = None,
             on_progress: Callable[[int], None] = lambda advance: None) -> dict[str, int]:
    """Generate the demo into the default database; returns rows written per table."""
    return DemoGenerator(customers=customers, seed=seed, today=today, password=password).run(on_progress)

