"""Tencent Cloud SMS settings from the environment."""

from __future__ import annotations

from libs.tencent import TencentSmsSettings, settings_from_env


def test_nothing_set_gives_the_defaults_and_names_every_missing_variable():
    conf = settings_from_env({})
    assert conf == TencentSmsSettings()
    assert conf.region == "ap-guangzhou"
    assert conf.missing() == [
        "TENCENT_SMS_SECRET_ID",
        "TENCENT_SMS_SECRET_KEY",
        "TENCENT_SMS_SDK_APP_ID",
        "TENCENT_SMS_SIGN_NAME",
        "TENCENT_SMS_TEMPLATE_ID",
    ]


def test_variables_are_read_stripped_and_a_complete_set_misses_nothing():
    conf = settings_from_env(
        {
            "TENCENT_SMS_SECRET_ID": " id ",
            "TENCENT_SMS_SECRET_KEY": "key",
            "TENCENT_SMS_SDK_APP_ID": "1400000000",
            "TENCENT_SMS_SIGN_NAME": "路飞",
            "TENCENT_SMS_TEMPLATE_ID": "123",
            "TENCENT_SMS_REGION": "ap-beijing",
        }
    )
    assert conf.secret_id == "id"
    assert conf.region == "ap-beijing"
    assert conf.endpoint == "sms.tencentcloudapi.com"
    assert conf.missing() == []
