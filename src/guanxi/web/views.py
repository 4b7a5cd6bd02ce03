"""The global search box and the 404 page (the dashboard lives in web/dashboard.py)."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from guanxi.customers.search import search_customers

SEARCH_PREVIEW = 8


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


def not_found(request, exception=None):
    """JSON under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "web/404.html", status=404)
