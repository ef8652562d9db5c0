"""The throttle counters: the one table of the shared plumbing."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ThrottleCounter(models.Model):
    """How many requests one throttle key has been let through in its current window.

    utils/throttling.py counts in this table with single UPDATE statements, which the database
    applies one at a time; DatabaseCache's incr is a read followed by a write, so concurrent
    requests there all read the same count.
    """

    key = models.CharField(max_length=200, unique=True)
    hits = models.PositiveIntegerField(default=1)
    expires_at = models.DateTimeField(db_index=True)  # end of the window; pruned after that

    class Meta:
        db_table = "luffy_throttle_counter"
        verbose_name = _("限流计数")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.key}: {self.hits} until {self.expires_at:%H:%M:%S}"
