"""Tencent Cloud SMS settings from the environment (TENCENT_SMS_*), as a frozen dataclass.

Built in settings.py whatever SMS_BACKEND says; the Tencent backend refuses to be built, at
start-up, while a variable it needs is empty (`missing()` names them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from utils.env import env_str

# Fields without a default: each must be set for SMS_BACKEND=tencent.
SMS_REQUIRED = ("secret_id", "secret_key", "sdk_app_id", "sign_name", "template_id")


@dataclass(frozen=True)
class TencentSmsSettings:
    secret_id: str = ""
    secret_key: str = ""
    sdk_app_id: str = ""
    sign_name: str = ""
    template_id: str = ""
    region: str = "ap-guangzhou"
    endpoint: str = "sms.tencentcloudapi.com"

    def missing(self) -> list[str]:
        """The variables to set before this can send, e.g. ["TENCENT_SMS_SECRET_ID"]."""
        return [variable(name) for name in SMS_REQUIRED if not getattr(self, name)]


def variable(field_name: str) -> str:
    return f"TENCENT_SMS_{field_name.upper()}"


def settings_from_env(env: Mapping[str, str]) -> TencentSmsSettings:
    """TencentSmsSettings from TENCENT_SMS_* variables; unset ones keep their defaults."""
    defaults = TencentSmsSettings()
    return TencentSmsSettings(
        **{
            f.name: env_str(variable(f.name), getattr(defaults, f.name), env=env)
            for f in fields(TencentSmsSettings)
        }
    )
