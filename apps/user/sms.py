"""SMS delivery backends, chosen by settings.SMS_BACKEND.

`log` (default) writes the code to the log, for development. `tencent` sends it through Tencent
Cloud SMS (the `tencentcloud-sdk-python-sms` package, pinned in requirements.txt). A backend
whose configuration or package is missing refuses to be built, and apps.user builds the selected
one at start-up, so the server stops with a message instead of answering 500 to every SMS.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from libs.tencent import TencentSmsSettings
from utils.logging import get_logger

logger = get_logger("sms")


class SmsDeliveryError(Exception):
    """The provider did not accept the message."""


class SmsBackend(Protocol):
    def send_code(self, mobile: str, code: str, ttl_minutes: int) -> None: ...


class LogSmsBackend:
    def send_code(self, mobile: str, code: str, ttl_minutes: int) -> None:
        logger.info("SMS code for %s: %s (valid %d minutes)", mobile, code, ttl_minutes)


class TencentSmsBackend:
    # What the send imports; checked when the backend is built, i.e. at start-up.
    SDK_MODULES = (
        "tencentcloud.common.credential",
        "tencentcloud.common.exception.tencent_cloud_sdk_exception",
        "tencentcloud.common.profile.client_profile",
        "tencentcloud.common.profile.http_profile",
        "tencentcloud.sms.v20210111.models",
        "tencentcloud.sms.v20210111.sms_client",
    )

    def __init__(self, config: TencentSmsSettings) -> None:
        missing = config.missing()
        if missing:
            raise ImproperlyConfigured(f"SMS_BACKEND=tencent needs {', '.join(missing)}.")
        for module in self.SDK_MODULES:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                raise ImproperlyConfigured(
                    f"SMS_BACKEND=tencent needs the Tencent Cloud SMS SDK ({module}: {exc}). "
                    "Install it with `pip install -r requirements.txt` "
                    "(tencentcloud-sdk-python-sms)."
                ) from None
        self.config = config

    def send_code(self, mobile: str, code: str, ttl_minutes: int) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import models, sms_client

        cfg = self.config
        http_profile = HttpProfile(endpoint=cfg.endpoint)
        client = sms_client.SmsClient(
            credential.Credential(cfg.secret_id, cfg.secret_key),
            cfg.region,
            ClientProfile(httpProfile=http_profile),
        )
        request = models.SendSmsRequest()
        request.SmsSdkAppId = cfg.sdk_app_id
        request.SignName = cfg.sign_name
        request.TemplateId = cfg.template_id
        request.TemplateParamSet = [code, str(ttl_minutes)]
        request.PhoneNumberSet = [f"+86{mobile}"]
        try:
            response = client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise SmsDeliveryError(f"Tencent SMS error {exc.code}: {exc.message}") from exc
        status = response.SendStatusSet[0] if response.SendStatusSet else None
        if status is None or status.Code != "Ok":
            detail = f"{status.Code}: {status.Message}" if status else "empty reply"
            raise SmsDeliveryError(f"Tencent SMS refused the message ({detail})")


def get_sms_backend() -> SmsBackend:
    name = settings.SMS_BACKEND
    if name == "log":
        return LogSmsBackend()
    if name == "tencent":
        return TencentSmsBackend(settings.TENCENT_SMS)
    raise ImproperlyConfigured(f"SMS_BACKEND must be 'log' or 'tencent', got {name!r}.")
