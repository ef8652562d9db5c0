"""Settings of `make bench`: the project's production settings with the benchmark's URLconf.

Only bench/run.py points DJANGO_SETTINGS_MODULE here, so the shop itself never imports bench/.
"""

from luffy_api.settings import *  # noqa: F403 - the project's settings, unchanged but one

ROOT_URLCONF = "bench.urls"
