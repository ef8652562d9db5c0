"""Tencent Cloud: the SMS settings (the backend that sends through the SDK is apps/user/sms.py)."""

from .config import SMS_REQUIRED, TencentSmsSettings, settings_from_env

__all__ = ["SMS_REQUIRED", "TencentSmsSettings", "settings_from_env"]
