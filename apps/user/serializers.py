from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from utils.public_urls import absolute_url
from utils.serializers import EnvelopeCodeField

from .models import MOBILE_REGEX, User

MOBILE_FIELD = {
    "regex": MOBILE_REGEX,
    "max_length": 11,
    "error_messages": {"invalid": _("请输入有效的中国大陆手机号")},
}


class MobileQuerySerializer(serializers.Serializer):
    mobile = serializers.RegexField(**MOBILE_FIELD)


class SmsRequestSerializer(serializers.Serializer):
    """send_sms's JSON body."""

    mobile = serializers.RegexField(**MOBILE_FIELD)


# The schema keeps the component's published name, which client generators turn into type names.
@extend_schema_serializer(component_name="MulLogin")
class PasswordLoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text=_("用户名、手机号或邮箱"))
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class MobileLoginSerializer(serializers.Serializer):
    mobile = serializers.RegexField(**MOBILE_FIELD)
    code = serializers.RegexField(
        r"^[0-9]{6}$", max_length=6, error_messages={"invalid": _("验证码为6位数字")}
    )


class MobileRegisterSerializer(MobileLoginSerializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordResetSerializer(MobileLoginSerializer):
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class LoginResponseSerializer(serializers.Serializer):
    code = EnvelopeCodeField()
    msg = serializers.CharField()
    token = serializers.CharField(help_text="Access token: send as `Authorization: jwt <token>`")
    refresh = serializers.CharField()
    username = serializers.CharField()
    icon = serializers.URLField()


class TokenPairResponseSerializer(serializers.Serializer):
    code = EnvelopeCodeField()
    msg = serializers.CharField()
    token = serializers.CharField(help_text="New access token")
    refresh = serializers.CharField(help_text="New refresh token: the one sent is now void")


class UserProfileSerializer(serializers.ModelSerializer):
    icon = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "mobile", "email", "icon", "date_joined"]
        read_only_fields = fields

    def get_icon(self, user: User) -> str:
        return absolute_url(user.icon_url())


class ProfileResponseSerializer(serializers.Serializer):
    code = EnvelopeCodeField()
    msg = serializers.CharField()
    result = UserProfileSerializer()
