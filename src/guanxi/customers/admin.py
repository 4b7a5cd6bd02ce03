"""Admin for support staff: raw-id widgets and indexed filters keep pages fast at 100k customers.

Customer, contact and share writes go through the services (duplicate checks, search entry,
timeline). The forms run the same validation in `clean()` so mistakes show on the form rather than
as an error page; the version travels in a hidden field, so an edit made on a stale page is refused.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import StaleVersion
from guanxi.customers import services
from guanxi.customers.models import (
    Attachment,
    Contact,
    CustomFieldDefinition,
    Customer,
    CustomerEvent,
    CustomerSearch,
    CustomerShare,
    ImportantDate,
    Referrer,
    StateChange,
    Tag,
)
from guanxi.customers.profile import validate_profile


class ReadOnlyAdmin(admin.ModelAdmin):
    """History and derived rows: visible to support, written only by the services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CustomerForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Customer
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        try:
            if "phone" in cleaned:
                cleaned["phone"] = services.normalise_phone(cleaned["phone"])
            if "uscc" in cleaned:
                cleaned["uscc"] = services.normalise_uscc(cleaned["uscc"])
            cleaned["email"] = (cleaned.get("email") or "").strip().lower()
            cleaned["profile"] = validate_profile(cleaned.get("kind") or "person", cleaned.get("profile"))
            cleaned["custom_fields"] = services.clean_custom_fields(cleaned.get("kind") or "person", cleaned.get("custom_fields"))
            duplicate = services.find_duplicate(
                phone=cleaned.get("phone", ""), email=cleaned["email"], uscc=cleaned.get("uscc", ""), exclude_pk=self.instance.pk
            )
            if duplicate:
                raise services.DuplicateCustomer(*duplicate)
        except ValidationError as error:
            for field, field_messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, field_messages)
        if self.instance.pk and cleaned.get("version") not in (None, Customer.objects.filter(pk=self.instance.pk).values_list("version", flat=True).first()):
            raise ValidationError(_("Someone else changed this customer since you opened it; reload the page."))
        return cleaned


class ImportantDateInline(admin.TabularInline):
    model = ImportantDate
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerForm
    list_display = ("name", "kind", "state", "owner", "team", "phone", "email", "source", "completeness", "created_at")
    list_filter = ("state", "kind", "source", "customer_type", "team")
    search_fields = ("=id", "name", "=phone", "=email", "=uscc")
    raw_id_fields = ("owner", "referred_by", "referrer")
    autocomplete_fields = ("tags",)
    list_select_related = ("owner", "team")
    readonly_fields = ("completeness", "last_verified_at", "opted_out_at", "created_at", "updated_at")
    inlines = (ImportantDateInline,)
    show_full_result_count = False  # COUNT(*) over 100k rows on every page is slow (pitfall 9)

    def get_readonly_fields(self, request, obj=None):
        # State moves need a reason and go in the history: change them in the app, not here.
        return (*self.readonly_fields, "state") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS if name in form.cleaned_data}
        tags = [tag.name for tag in form.cleaned_data.get("tags", [])]
        try:
            if not change:
                created = services.create_customer(
                    actor=request.user, owner=form.cleaned_data.get("owner") or request.user, state=form.cleaned_data["state"],
                    tags=tags, **data,
                )
                obj.pk = created.pk
                return
            previous_owner = Customer.objects.filter(pk=obj.pk).values_list("owner_id", flat=True).first()
            current = Customer.objects.get(pk=obj.pk)
            services.update_customer(customer=current, actor=request.user, expected_version=form.cleaned_data["version"] or current.version, tags=tags, **data)
            new_owner = form.cleaned_data.get("owner")
            if new_owner and new_owner.pk != previous_owner:
                services.reassign_customer(customer=current, owner=new_owner, actor=request.user)
        except StaleVersion:
            messages.error(request, _("Someone else changed this customer meanwhile; your change was not saved."))
        except ValidationError as error:
            messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items()))

    def save_related(self, request, form, formsets, change):
        # Tags were set by the service; only the inline formsets are left to save.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(Referrer)
class ReferrerAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "phone", "email", "commission_per_lead", "currency", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "=phone", "=email")


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "field_type", "applies_to", "required", "position")
    list_filter = ("field_type", "applies_to", "required")
    search_fields = ("key", "label")
    ordering = ("position", "key")


@admin.register(CustomerShare)
class CustomerShareAdmin(admin.ModelAdmin):
    list_display = ("customer", "user", "created_at")
    raw_id_fields = ("customer", "user")
    list_select_related = ("customer", "user")
    search_fields = ("=customer__id", "user__username")
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        services.share_customer(customer=obj.customer, user=obj.user, actor=request.user)

    def delete_model(self, request, obj):
        services.unshare_customer(customer=obj.customer, user=obj.user, actor=request.user)


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = "__all__"

    def clean_phone(self):
        return services.normalise_phone(self.cleaned_data.get("phone", ""))


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactForm
    list_display = ("name", "customer", "role", "title", "phone", "email", "is_primary")
    list_filter = ("role", "is_primary")
    search_fields = ("name", "=phone", "=email", "=customer__id")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    readonly_fields = ("version",)
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.CONTACT_FIELDS if name in form.cleaned_data}
        try:
            if change:
                current = Contact.objects.select_related("customer").get(pk=obj.pk)
                services.update_contact(contact=current, actor=request.user, expected_version=current.version, **data)
            else:
                obj.pk = services.create_contact(customer=form.cleaned_data["customer"], actor=request.user, **data).pk
        except ValidationError as error:
            messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items()))

    def delete_model(self, request, obj):
        services.delete_contact(contact=obj, actor=request.user)


@admin.register(ImportantDate)
class ImportantDateAdmin(admin.ModelAdmin):
    list_display = ("label", "customer", "date", "recurring")
    list_filter = ("recurring",)
    search_fields = ("label", "=customer__id")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    show_full_result_count = False


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    """Files are uploaded and downloaded through the app (visibility checks, safe headers)."""

    list_display = ("original_name", "customer", "content_type", "size", "uploaded_by", "created_at")
    list_filter = ("content_type",)
    search_fields = ("original_name", "=customer__id")
    raw_id_fields = ("customer", "opportunity", "uploaded_by")
    list_select_related = ("customer", "uploaded_by")
    show_full_result_count = False

    def delete_model(self, request, obj):
        services.delete_attachment(attachment=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for attachment in queryset.select_related("customer"):
            services.delete_attachment(attachment=attachment, actor=request.user)


@admin.register(StateChange)
class StateChangeAdmin(ReadOnlyAdmin):
    list_display = ("customer", "from_state", "to_state", "reason", "actor", "changed_at")
    list_filter = ("to_state",)
    search_fields = ("=customer__id",)
    raw_id_fields = ("customer", "actor")
    list_select_related = ("customer", "actor")
    show_full_result_count = False


@admin.register(CustomerEvent)
class CustomerEventAdmin(ReadOnlyAdmin):
    list_display = ("customer", "verb", "summary", "actor", "occurred_at")
    list_filter = ("verb",)
    search_fields = ("=customer__id",)
    raw_id_fields = ("customer", "actor")
    list_select_related = ("customer", "actor")
    show_full_result_count = False


@admin.register(CustomerSearch)
class CustomerSearchAdmin(ReadOnlyAdmin):
    """To check what a customer is found by; rebuilt by the services, never edited."""

    list_display = ("customer", "owner_id", "team_id", "text")
    search_fields = ("=customer__id",)
    raw_id_fields = ("customer",)
    show_full_result_count = False
