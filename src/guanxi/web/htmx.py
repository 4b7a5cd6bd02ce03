"""One rule for htmx responses: the fragment for htmx requests, the full page otherwise.

History restores (htmx re-fetching a page that fell out of its cache) always get the full
page, and every such response varies on HX-Request so caches never mix the two.
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def wants_fragment(request) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page(request, template: str, context: dict, *, partial: str | None = None, status: int = 200) -> HttpResponse:
    """Render `template`, or only its `{% partialdef partial %}` when htmx asked for a fragment."""
    name = f"{template}#{partial}" if partial and wants_fragment(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
