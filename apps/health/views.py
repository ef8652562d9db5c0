"""Health endpoints for load balancers and orchestration: liveness and readiness, as JSON."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from utils.response import SUCCESS

from .checks import CheckResult, run_checks


def require_safe(view: Callable[[HttpRequest], JsonResponse]) -> Callable[..., JsonResponse]:
    """GET and HEAD only; anything else gets the 405 envelope (Django's own answers in HTML)."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> JsonResponse:
        if request.method not in {"GET", "HEAD"}:
            response = JsonResponse({"code": 405, "msg": _("方法不允许")}, status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return view(request)

    return wrapper


@never_cache
@require_safe
def liveness(request: HttpRequest) -> JsonResponse:
    """The process is up and answers; touches no database, so a database outage does not make
    a load balancer restart every node at once."""
    return JsonResponse({"code": SUCCESS, "msg": "ok"})


class RecentChecks:
    """This process's last readiness results, reused for HEALTH_READY_CACHE_SECONDS.

    /health/ready/ is public and each run costs a migration plan, a cache round trip and a
    storage write (a Qiniu call in production): a flood of requests runs the checks once per
    period per process, the others wait for that run and share it. 0 runs them every time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: list[CheckResult] | None = None
        self._at = 0.0

    def get(self) -> list[CheckResult]:
        seconds = settings.HEALTH_READY_CACHE_SECONDS
        with self._lock:  # held while checking: a burst waits for one run, not one run each
            if self._results is None or time.monotonic() - self._at >= seconds:
                self._results = run_checks()
                self._at = time.monotonic()
            return self._results


recent_checks = RecentChecks()


@never_cache
@require_safe
def readiness(request: HttpRequest) -> JsonResponse:
    """200 when the database, migrations, shared cache and storage all answer; 503 otherwise.
    At most HEALTH_READY_CACHE_SECONDS old (nginx keeps it to internal addresses)."""
    results = recent_checks.get()
    checks = {
        r.name: {"ok": r.ok, "ms": r.milliseconds, **({"error": r.error} if r.error else {})}
        for r in results
    }
    if all(r.ok for r in results):
        return JsonResponse({"code": SUCCESS, "msg": "ready", "checks": checks})
    failing = ", ".join(r.name for r in results if not r.ok)
    return JsonResponse({"code": 503, "msg": f"not ready: {failing}", "checks": checks}, status=503)
