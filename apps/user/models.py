from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from utils.uploads import validate_image_upload

# [0-9], not \d: in Python \d also matches full-width and other non-ASCII digits.
MOBILE_REGEX = r"^1[3-9][0-9]{9}$"
DEFAULT_ICON = "user/default-icon.png"
mobile_validator = RegexValidator(MOBILE_REGEX, _("请输入有效的中国大陆手机号"))


class User(AbstractUser):
    # Nullable so staff created in the admin need no phone; unique among those who have one.
    mobile = models.CharField(
        _("手机号"),
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        validators=[mobile_validator],
    )
    icon = models.ImageField(
        _("头像"), upload_to="icon", blank=True, default="", validators=[validate_image_upload]
    )
    # Sessions logged out within the access-token lifetime: {session id: logout time (epoch
    # seconds)}. Their access tokens are refused at once (utils.authentication), read with the
    # row every authenticated request reads anyway; their refresh tokens are blacklisted.
    ended_sessions = models.JSONField(_("已退出的会话"), default=dict, blank=True, editable=False)

    def icon_url(self) -> str:
        """Path of the avatar, or of the shared default one when none was uploaded."""
        return self.icon.url if self.icon else static(DEFAULT_ICON)

    class Meta:
        db_table = "luffy_user"
        # Login accepts an e-mail address as the identifier (backends.MultiFieldModelBackend).
        indexes = [models.Index(fields=["email"], name="user_email")]
        verbose_name = _("用户")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.username


class SmsCode(models.Model):
    """A verification code sent by SMS: valid for a few minutes, used once, few wrong tries."""

    mobile = models.CharField(_("手机号"), max_length=11, db_index=True)
    code_hash = models.CharField(_("验证码摘要"), max_length=64)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"))
    attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        db_table = "luffy_sms_code"
        verbose_name = _("短信验证码")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["mobile", "-created_at"], name="sms_code_mobile_recent")]

    def __str__(self) -> str:
        return f"{self.mobile} @ {self.created_at:%Y-%m-%d %H:%M:%S}"


class LoginGate(models.Model):
    """A lock row per client IP and per account that tried the admin login.

    An admin login attempt holds the rows of its IP and its account while the password is
    checked and the failure counted (apps/user/lockout.py), so simultaneous attempts are judged
    one after another against the same count instead of all reading it before any is added.
    """

    key = models.CharField(_("键"), max_length=300, unique=True)
    touched_at = models.DateTimeField(_("最近使用"), default=timezone.now, db_index=True)

    class Meta:
        db_table = "luffy_login_gate"
        verbose_name = _("后台登录闸")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.key
