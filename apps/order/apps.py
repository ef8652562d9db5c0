from django.apps import AppConfig


class OrderConfig(AppConfig):
    name = "apps.order"
    label = "order"
    verbose_name = "订单"
