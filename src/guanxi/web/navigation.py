"""The main navigation: one list, so a new workspace is one line here.

Each item names the URL it wants first; until that page exists, the placeholder in
`guanxi.web.views` answers so the layout never breaks (see README.md).
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_names: tuple[str, ...]  # tried in order; the first that resolves wins
    admin_only: bool = False
    separator: bool = False


NAV = (
    NavItem(_("Dashboard"), ("web:dashboard",)),
    NavItem(_("Customers"), ("customers:list",)),
    NavItem(_("Pipeline"), ("sales:pipeline", "web:pipeline")),
    NavItem(_("Tasks"), ("engagement:tasks", "web:tasks")),
    NavItem(_("Interactions"), ("engagement:interactions", "web:interactions")),
    NavItem(_("Products & orders"), ("sales:orders", "web:orders")),
    NavItem(_("Complaints"), ("service:list",)),
    NavItem(_("After-sales service"), ("service:tickets",)),
    NavItem(_("Care & campaigns"), ("care:home",)),
    NavItem(_("Insights"), ("insights:home",)),
    NavItem(_("Administration"), ("admin:index",), admin_only=True, separator=True),
)


def _first_url(names: tuple[str, ...]) -> str | None:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def nav_items(request) -> list[dict]:
    user = request.user
    items = []
    for item in NAV:
        if item.admin_only and not (user.is_staff and getattr(user, "is_admin_role", False)):
            continue
        url = _first_url(item.url_names)
        if url is None:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": item.label, "url": url, "active": active, "separator": item.separator})
    return items
