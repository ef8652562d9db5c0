from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import SmsCode, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["id", "username", "mobile", "email", "is_staff", "is_active", "date_joined"]
    search_fields = ["username", "mobile", "email"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        ("Luffy", {"fields": ["mobile", "icon"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "mobile", "password1", "password2"]}),
    ]


@admin.register(SmsCode)
class SmsCodeAdmin(admin.ModelAdmin):
    """Read-only: codes are stored hashed and only the service changes them."""

    list_display = ["mobile", "created_at", "expires_at", "attempts", "used_at"]
    search_fields = ["mobile"]
    list_filter = ["created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
