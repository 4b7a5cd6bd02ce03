"""The main navigation: one list, so a new workspace is one line here.

Each item names its page's URL; an item whose URL does not resolve (an app not installed)
is left out, so the layout never breaks (see README.md).
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_names: tuple[str, ...]  # the first is the link; every one of them highlights the item
    admin_only: bool = False
    separator: bool = False


NAV = (
    NavItem(_("Dashboard"), ("web:dashboard",)),
    NavItem(_("Customers"), ("customers:list",)),
    NavItem(_("Pipeline"), ("sales:pipeline",)),
    NavItem(_("Tasks"), ("engagement:tasks",)),
    NavItem(_("Interactions"), ("engagement:interactions",)),
    NavItem(_("Products & orders"), ("sales:orders", "sales:products", "sales:receivables")),
    NavItem(_("Complaints"), ("service:list",)),
    NavItem(_("After-sales service"), ("service:tickets",)),
    NavItem(_("Care & campaigns"), ("care:home",)),
    NavItem(_("Insights"), ("insights:home",)),
    NavItem(_("Administration"), ("admin:index",), admin_only=True, separator=True),
)


def _urls(names: tuple[str, ...]) -> list[str]:
    urls = []
    for name in names:
        try:
            urls.append(reverse(name))
        except NoReverseMatch:
            continue
    return urls


def nav_items(request) -> list[dict]:
    user = request.user
    items = []
    for item in NAV:
        if item.admin_only and not (user.is_staff and getattr(user, "is_admin_role", False)):
            continue
        urls = _urls(item.url_names)
        if not urls:
            continue
        active = any(request.path == url if url == "/" else request.path.startswith(url) for url in urls)
        items.append({"label": item.label, "url": urls[0], "active": active, "separator": item.separator})
    return items
