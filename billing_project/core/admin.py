"""API tokens in the admin: managers see every token (whose, when issued, when it expires) and
revoke a lost or retired till's token by deleting it. Tokens are not added here: a till gets its
own from ``POST /api/v1/auth/token`` with its user's password."""

from django.contrib import admin
from django.utils import timezone
from knox.models import AuthToken

from billing_project.core.tokens import api_token_revoke

if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)  # knox's own admin shows digests and offers "add"


@admin.register(AuthToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("token_start", "user", "created", "expiry", "is_expired")
    list_filter = ("created", "expiry")
    search_fields = ("user__username", "token_key")
    ordering = ("-created",)
    list_select_related = ("user",)
    fields = ("token_start", "user", "created", "expiry")
    readonly_fields = fields
    actions = ["revoke_selected"]

    @admin.display(description="token starts with")
    def token_start(self, obj):
        return f"{obj.token_key[:8]}…"

    @admin.display(description="expired", boolean=True)
    def is_expired(self, obj):
        return obj.expiry is not None and obj.expiry < timezone.now()

    @admin.action(description="Revoke selected tokens", permissions=["delete"])
    def revoke_selected(self, request, queryset):
        count = api_token_revoke(tokens=list(queryset))
        self.message_user(request, f"Revoked {count} token{'s' if count != 1 else ''}.")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "Revoke selected tokens" says what it does
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
