"""Sign-in, sign-out, password change and the language switch (the browser side of accounts)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import activate, gettext as _
from django.views.decorators.http import require_POST

from guanxi.accounts.models import User

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("web:dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response


def remember_language(*, user: User, language: str) -> None:
    """Store the user's interface language so every later session starts in it."""
    User.objects.filter(pk=user.pk).update(language=language)


@require_POST
def set_language(request):
    """Switch the interface language for this session and, when signed in, for good."""
    language = request.POST.get("language", "")
    target = request.POST.get("next") or reverse("web:dashboard")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("web:dashboard")
    if language in LANGUAGE_CODES:
        request.session["language"] = language
        if request.user.is_authenticated:
            remember_language(user=request.user, language=language)
        activate(language)
    return HttpResponseRedirect(target)


def locked_out(request, response=None, credentials=None):
    """django-axes lockout page: say plainly that sign-in is paused, and for how long (HTTP 429)."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = round(cool_off * 60) if isinstance(cool_off, (int, float)) else None
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "registration/lockout.html", context, status=429)


def on_user_logged_in(sender, request, user, **kwargs):
    """Start the session in the language the user chose before (else the browser's stays)."""
    if request is not None and getattr(user, "language", "") in LANGUAGE_CODES:
        request.session["language"] = user.language
