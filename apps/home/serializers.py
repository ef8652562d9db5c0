"""How banners look on the wire (the tutorial's Vue client reads these names)."""

from django.core.exceptions import ValidationError
from rest_framework import serializers

from .models import Banner, validate_banner_link


class BannerSerializer(serializers.ModelSerializer):
    # Absolute, like course and teacher images: DRF builds it from the request in the context.
    image = serializers.ImageField(read_only=True, use_url=True)
    link = serializers.SerializerMethodField(
        help_text="A storefront path or an http(s) URL; empty when there is none"
    )

    class Meta:
        model = Banner
        fields = ["id", "title", "image", "link"]

    def get_link(self, banner: Banner) -> str:
        # A row saved before links were checked may hold anything: it is not handed out.
        try:
            validate_banner_link(banner.link)
        except ValidationError:
            return ""
        return banner.link
