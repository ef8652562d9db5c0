"""gunicorn settings for the Luffy API: `gunicorn -c gunicorn.conf.py luffy_api.wsgi`.

Every value comes from the environment (or `.env`, read the same way as luffy_api/settings.py),
so one file serves `make serve`, the systemd unit (deploy/systemd/luffy.service) and the
two-node drill. `kill -HUP <master>` (systemctl reload luffy) starts new workers on new code and
lets the old ones finish their requests: a graceful reload.
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
if not os.environ.get("LUFFY_IGNORE_DOTENV"):
    load_dotenv(BASE_DIR / ".env", override=False)


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "luffy_api.wsgi:application"
chdir = str(BASE_DIR)
# Loopback by default: nginx (deploy/nginx/luffy.conf) is the only thing that talks to us.
bind = os.environ.get("GUNICORN_BIND", "").strip() or f"127.0.0.1:{_int('PORT', 8000)}"

# Workers are processes (CPU, one per core and a bit); threads let one worker wait on Alipay,
# Qiniu or the database for several requests at once. threads > 1 selects the gthread worker.
workers = _int("GUNICORN_WORKERS", min(2 * (os.cpu_count() or 1) + 1, 8))
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"

# An admin video upload is read in full by nginx first (proxy_request_buffering), then sent on
# to Qiniu by the worker inside the request (libs/qiniu: resumable upload, 4 MiB blocks): at
# 10 MB/s a 2 GiB video takes ~3.5 minutes, hence 5 minutes. A gthread worker keeps
# heart-beating while it waits, so this limit only ends a worker that is truly stuck.
timeout = _int("GUNICORN_TIMEOUT", 300)
# On HUP or TERM, requests in flight get this long to finish before their worker is killed.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# nginx keeps connections to us open (upstream keepalive); ours must outlive its idle timeout.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# Workers are not recycled by default: a gthread worker that restarts after max_requests closes
# the keep-alive connections nginx pools to it, and a POST nginx has just sent on one is reset
# and answered 502 (nginx retries only idempotent requests). Seen in the two-node flash-sale
# burst. GUNICORN_MAX_REQUESTS=N turns recycling on (a leak cannot grow forever); jitter keeps
# workers from all restarting at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Workers import the app themselves: HUP then reloads the code too (no preload_app).
preload_app = False
proc_name = os.environ.get("GUNICORN_PROC_NAME", "luffy")
# gunicorn only trusts X-Forwarded-Proto from these (the proxy on this machine).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# --- Logs: the same line format as the app's own (utils/logging.py), one handler each ----------
# The access line carries the request id the app echoed and the time taken (milliseconds).
accesslog = "-"
access_log_format = (
    '[%({x-request-id}o)s] %({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
)
_format = os.environ.get("LOG_FORMAT", "plain").strip().lower() or "plain"
_formatter = (
    {"()": "utils.logging.JsonFormatter"}
    if _format == "json"
    else {
        "()": "utils.logging.PlainFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
    }
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"luffy": _formatter},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "luffy",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    # propagate False: the root handler (the app's, once Django is loaded) must not repeat them.
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
    },
}
