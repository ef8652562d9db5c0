"""The benchmark's ceiling: a bare Django view (no DRF, no database) behind the same stack.

Mounted at /bench/ceiling/ by bench/urls.py, the URLconf of bench/settings.py, which only
`make bench` uses. Its throughput is what gunicorn, the middleware and the machine allow at
best; every endpoint is reported as a fraction of it.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse


def ceiling(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"code": 100, "msg": "ok", "result": {"service": "luffy", "ceiling": True}})
