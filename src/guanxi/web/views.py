"""The dashboard, the global search box, placeholders for workspaces still being built, and 404."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from guanxi.core.visibility import visible_customers
from guanxi.customers.models import State
from guanxi.customers.search import search_customers

SEARCH_PREVIEW = 8


@login_required
def dashboard(request):
    """Placeholder KPIs in the user's scope until the dashboard issue adds charts."""
    customers = visible_customers(request.user)
    kpis = [
        (_("Customers"), customers[:10001].count()),
        (_("Current customers"), customers.filter(state=State.CURRENT)[:10001].count()),
        (_("Potential customers"), customers.filter(state=State.POTENTIAL)[:10001].count()),
    ]
    return render(request, "web/dashboard.html", {"kpis": kpis})


@login_required
@require_GET
@vary_on_headers("HX-Request")
def search(request):
    """Live results under the global search box; without htmx, the full customer list."""
    q = request.GET.get("q", "").strip()[:100]
    if not request.htmx:
        return redirect(reverse("customers:list") + "?" + urlencode({"q": q}))
    results = []
    if q:
        results = list(search_customers(request.user, q).only("pk", "name", "phone", "email").order_by("name")[: SEARCH_PREVIEW + 1])
    return render(
        request, "web/search_results.html",
        {"q": q, "results": results[:SEARCH_PREVIEW], "more": len(results) > SEARCH_PREVIEW},
    )


def _placeholder(title):
    @login_required
    def view(request):
        return render(request, "web/placeholder.html", {"title": title})

    return view


# Replaced by the real workspaces (navigation.py tries their URL names first).
pipeline = _placeholder(_("Pipeline"))
tasks = _placeholder(_("Tasks"))
interactions = _placeholder(_("Interactions"))
orders = _placeholder(_("Products & orders"))


def not_found(request, exception=None):
    """JSON under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "web/404.html", status=404)
