from django.apps import AppConfig


class OrderConfig(AppConfig):
    name = "apps.order"
    label = "order"
    verbose_name = "订单"

    def ready(self) -> None:
        # Refuse to start with Alipay keys the SDK cannot use, rather than fail on the first order.
        from libs.iPay import load_settings

        load_settings()
