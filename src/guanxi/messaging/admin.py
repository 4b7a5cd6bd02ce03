from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from guanxi.messaging import services
from guanxi.messaging.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """Support's view of the outbox: failures stay here with their error until sent again."""

    list_display = ("created_at", "to", "subject", "status", "attempts", "sent_at", "about")
    list_filter = ("status", "template", "language")
    search_fields = ("to", "subject", "about")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send again"))
    def send_again(self, request, queryset):
        sent = 0
        for email in queryset.exclude(status=OutboundEmail.Status.SENT):
            try:
                services.retry_email(email=email, actor=request.user)
            except (PermissionDenied, ValidationError) as error:
                self.message_user(request, str(error), messages.ERROR)
                return
            sent += 1
        self.message_user(request, ngettext("%d message queued again.", "%d messages queued again.", sent) % sent)
