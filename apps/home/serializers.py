"""How banners look on the wire (the tutorial's Vue client reads these names)."""

from rest_framework import serializers

from .models import Banner


class BannerSerializer(serializers.ModelSerializer):
    # Absolute, like course and teacher images: DRF builds it from the request in the context.
    image = serializers.ImageField(read_only=True, use_url=True)

    class Meta:
        model = Banner
        fields = ["id", "title", "image", "link"]
