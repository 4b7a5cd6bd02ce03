"""Admin for users, teams, departments and API tokens.

Offboarding is an action with a successor picker, so support never deactivates a user by
unticking "active" and leaves their customers orphaned. Tokens cannot be added here: the raw
secret is shown once, by the API or `guanxi token create`.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.accounts import services
from guanxi.accounts.models import ApiToken, Department, Team, User


class OffboardForm(ActionForm):
    to_user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"), required=False, label=_("Successor")
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    action_form = OffboardForm
    actions = ("offboard",)
    list_display = ("username", "first_name", "last_name", "role", "team", "department", "is_active", "last_login")
    list_filter = ("role", "is_active", "team", "department")
    list_select_related = ("team", "department")
    search_fields = ("username", "first_name", "last_name", "email")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Guanxi"), {"fields": ("role", "team", "department", "language")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Guanxi"), {"fields": ("role", "team", "department")}),
    )

    @admin.action(description=_("Deactivate and hand customers, open opportunities and tasks to the successor"))
    def offboard(self, request, queryset):
        successor = request.POST.get("to_user") and User.objects.filter(pk=request.POST["to_user"]).first()
        if not successor:
            self.message_user(request, _("Choose a successor first."), messages.ERROR)
            return
        for user in queryset.filter(is_active=True):
            try:
                moved = services.deactivate_user_and_reassign(user=user, to_user=successor, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{user}: {' '.join(error.messages)}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(user)s: %(customers)d customers, %(opportunities)d opportunities and %(tasks)d tasks moved to %(to)s.")
                % {"user": user, "to": successor, **moved},
            )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "department")
    list_filter = ("department",)
    search_fields = ("name",)
    list_select_related = ("department",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "name", "user__username")
    raw_id_fields = ("user",)
    list_select_related = ("user",)
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            services.revoke_api_token(token=token, actor=request.user)
