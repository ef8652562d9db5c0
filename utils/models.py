"""Abstract catalog fields, and the throttle counters (the one table of the plumbing)."""

from django.db import models


class BaseModel(models.Model):
    """Fields every catalog table shares: soft delete, visibility, manual ordering, timestamps."""

    is_delete = models.BooleanField("是否删除", default=False)
    is_show = models.BooleanField("是否展示", default=True)
    orders = models.IntegerField("排序", default=0)
    created_time = models.DateTimeField("创建时间", auto_now_add=True)
    updated_time = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


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
        verbose_name = "限流计数"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.key}: {self.hits} until {self.expires_at:%H:%M:%S}"
