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
