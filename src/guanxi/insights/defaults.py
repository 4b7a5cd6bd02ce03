"""Defaults an administrator starts from: spend tiers, service policies and warning rules.

Seeded by migration 0002; evaluators fall back to DEFAULT_RULE_PARAMETERS for any parameter a
rule leaves out. "task": true makes each new warning of that kind a task for its assignee; it is on
for credit (collection) and lost customers (win-back), off where a first run on old data would
bury reps in tasks (churn, replacement, contact) until an administrator turns it on.
"""

SPEND_TIERS = [
    # key, name, minimum spend over the last 12 months (CNY)
    ("platinum", "白金 Platinum", "500000.00"),
    ("gold", "金 Gold", "100000.00"),
    ("silver", "银 Silver", "20000.00"),
    ("bronze", "铜 Bronze", "0.00"),
]

# DOMAIN.md §4: grade × upgrade potential → service.
SERVICE_POLICIES = [
    {"grade": "key", "with_potential": True, "name": "客户经理制 Account manager",
     "actions": "集中资源，专人或团队负责，定期拜访。Concentrated resources, a dedicated account manager or team, regular visits.",
     "account_manager": True, "contact_every_days": 30, "task_title": "关键客户定期联系 Key-account contact"},
    {"grade": "key", "with_potential": False, "name": "客户经理制 Account manager",
     "actions": "集中资源，专人或团队负责，定期拜访。Concentrated resources, a dedicated account manager or team, regular visits.",
     "account_manager": True, "contact_every_days": 30, "task_title": "关键客户定期联系 Key-account contact"},
    {"grade": "normal", "with_potential": True, "name": "追加销售、交叉销售 Up-sell and cross-sell",
     "actions": "追加销售、交叉销售、一站式服务，为经销商提供咨询与培训。Up-sell, cross-sell, one-stop service, advice and training for dealers.",
     "contact_every_days": 60, "task_title": "推荐升级或关联产品 Offer an upgrade or related product"},
    {"grade": "normal", "with_potential": False, "name": "现款或预付 Cash or prepayment",
     "actions": "现款现货或预付款，减少服务。Cash or prepayment, less service.", "payment_terms": "cash"},
    {"grade": "small", "with_potential": True, "name": "培养 Nurture",
     "actions": "扶持培养，小客户也可能是好客户。Nurture: small customers can become good customers.",
     "contact_every_days": 90, "task_title": "培养小客户 Nurture call"},
    {"grade": "small", "with_potential": False, "name": "自助渠道、预付 Self-service, prepayment",
     "actions": "原免费服务收费，降低服务频次，使用低成本渠道（网站、热线）。Charge for formerly free services, fewer visits, cheaper channels.",
     "payment_terms": "prepay"},
    {"grade": "bad", "with_potential": True, "name": "先礼后兵 Collection, then legal",
     "actions": "先催收（提醒 → 正式催告），无效再诉诸法律；冻结信用。Reminder, then formal demand, then legal action; credit freeze.",
     "payment_terms": "prepay", "credit_freeze": True, "task_title": "催收欠款 Collect the receivable"},
    {"grade": "bad", "with_potential": False, "name": "先礼后兵 Collection, then legal",
     "actions": "先催收（提醒 → 正式催告），无效再诉诸法律；冻结信用。Reminder, then formal demand, then legal action; credit freeze.",
     "payment_terms": "prepay", "credit_freeze": True, "task_title": "催收欠款 Collect the receivable"},
]

DEFAULT_RULE_PARAMETERS = {
    "credit_limit": {"task": True},
    "sales_pace": {"tolerance": 0.10},
    "expenses": {"climb_rate": 0.5, "min_amount": 1000, "months": 3},
    "churn_risk": {"p_alive_below": 0.3, "gap_factor": 3.0, "min_orders": 2, "recent_days": 365,
                   "grades": ["key", "normal"], "task": False},
    "lost": {"lookback_days": 30, "task": True},
    "cumulative_purchases": {"thresholds": [10000, 50000, 100000], "lookback_days": 30},
    "replacement_due": {"lead_days": 30, "max_overdue_days": 30, "task": False},
    "big_account_risk": {"grades": ["key"], "late_days_over_terms": 15, "discount_rate_above": 0.10,
                         "revenue_share_above": 0.05, "months": 12},
    "export_volume": {"rows_per_export": 5000, "rows_per_day": 20000},
    "contact_overdue": {"task": False},
}
