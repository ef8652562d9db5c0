"""Examples of the account endpoints for the API docs (/api/docs/)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

ACCESS = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl"
REFRESH = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"
MOBILE = "13800000001"

TOKENS = (
    "`token` is the access token (send it as `Authorization: jwt <token>`; it lives "
    "JWT_ACCESS_MINUTES, 15 by default); `refresh` gets a new pair from `token/refresh/` "
    "(JWT_REFRESH_DAYS, 7 by default)."
)


def envelope(name: str, msg: str, code: int = 100, **extra: object) -> OpenApiExample:
    return OpenApiExample(name, value={"code": code, "msg": msg, **extra}, response_only=True)


REGISTERED = envelope("Registered (100)", "手机号已注册")
NOT_REGISTERED = envelope("Not registered (101)", "手机号未注册", code=101)
SMS_SENT = envelope("Sent", "验证码已发送")
LOGGED_IN = envelope(
    "Logged in",
    "登录成功",
    token=ACCESS,
    refresh=REFRESH,
    username="demo",
    icon="https://shop.example.com/media/icon/default.png",
)
PASSWORD_LOGIN = OpenApiExample(
    "Password login",
    value={"username": "demo", "password": "luffy-demo-2026"},
    request_only=True,
)
SMS_REQUEST = OpenApiExample("Send a code", value={"mobile": MOBILE}, request_only=True)
MOBILE_LOGIN = OpenApiExample(
    "SMS code login", value={"mobile": MOBILE, "code": "123456"}, request_only=True
)
MOBILE_REGISTER = OpenApiExample(
    "Register",
    value={"mobile": MOBILE, "code": "123456", "password": "a-long-new-password"},
    request_only=True,
)
REGISTERED_NOW = envelope("Registered", "注册成功")
PROFILE = envelope(
    "Profile",
    "成功",
    result={
        "id": 1,
        "username": "demo",
        "mobile": MOBILE,
        "email": "demo@example.com",
        "icon": "https://shop.example.com/media/icon/default.png",
        "date_joined": "2026-01-05T09:00:00+08:00",
    },
)
REFRESH_REQUEST = OpenApiExample("Refresh token", value={"refresh": REFRESH}, request_only=True)
LOGGED_OUT = envelope("Logged out", "已退出登录")
PASSWORD_CHANGE = OpenApiExample(
    "Change password",
    value={"old_password": "luffy-demo-2026", "new_password": "a-long-new-password"},
    request_only=True,
)
PASSWORD_CHANGED = envelope("Changed", "密码已修改", token=ACCESS, refresh=REFRESH)
PASSWORD_RESET = OpenApiExample(
    "Reset password",
    value={"mobile": MOBILE, "code": "123456", "new_password": "a-long-new-password"},
    request_only=True,
)
PASSWORD_RESET_DONE = envelope("Reset", "密码已重置,请重新登录")
REFRESHED = envelope("New pair", "刷新成功", token=ACCESS, refresh=REFRESH)
