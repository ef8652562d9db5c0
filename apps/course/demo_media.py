"""Pictures and a video for the demo catalog, so every image shows and every lesson plays.

Covers, teacher avatars and banners are drawn at `load_demo` time with Pillow (the course name in
WenQuanYi Zen Hei when the font is installed, a plain Latin label otherwise). The lesson video is
one small committed MP4 (H.264 baseline + AAC, moov atom first so a browser starts at once), stored
once under DEMO_VIDEO_KEY and shared by every demo section. Every step skips what is already there,
so running `load_demo` again changes nothing.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile
from PIL import Image, ImageDraw, ImageFont

from apps.home.models import Banner

from .models import Course, Teacher

DEMO_VIDEO_KEY = "demo/lesson.mp4"
DEMO_VIDEO_FILE = Path(__file__).resolve().parent / "demo" / "lesson.mp4"
_FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",  # other distributions
)
_PALETTE = ["#1f6feb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#4d7c0f"]
# title, link (a storefront path), index into the demo courses it points at (None: a list page)
BANNERS = [
    ("实战课限时折扣", "/actual", None),
    ("Python入门基础 免费学", "/course/{pk}", "Python入门基础"),
    ("轻课 每天十分钟", "/light", None),
]


def _font(size: int) -> ImageFont.FreeTypeFont | None:
    for path in _FONT_PATHS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return None


def draw_picture(text: str, subtitle: str, *, size: tuple[int, int], color: str) -> bytes:
    """A JPEG with `text` centred on a coloured background.

    Without a Chinese font Pillow would draw boxes for Chinese text, so the fallback draws only
    the ASCII `subtitle`.
    """
    width, height = size
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    font = _font(max(14, height // 7))
    small = _font(max(12, height // 14))
    if font is None or small is None:
        font = small = ImageFont.load_default(size=max(12, height // 10))
        text = subtitle
    draw.text((width / 2, height / 2 - height / 12), text, fill="white", font=font, anchor="mm")
    if text != subtitle:
        draw.text((width / 2, height * 7 / 8), subtitle, fill="white", font=small, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82, optimize=True)
    return out.getvalue()


def _missing(field: FieldFile) -> bool:
    return not field or not default_storage.exists(field.name)


def _attach(field: FieldFile, name: str, content: bytes) -> bool:
    """Store a picture in an empty (or dangling) image field; False when one is there."""
    if not _missing(field):
        return False
    field.save(name, ContentFile(content), save=True)
    return True


def ensure_demo_video() -> bool:
    """Store the demo MP4 under DEMO_VIDEO_KEY unless it is there; True when written."""
    if default_storage.exists(DEMO_VIDEO_KEY):
        return False
    with DEMO_VIDEO_FILE.open("rb") as handle:
        default_storage.save(DEMO_VIDEO_KEY, File(handle))
    return True


def attach_demo_media(courses: list[Course], teachers: list[Teacher]) -> int:
    """Covers, avatars, banners and the lesson video for the demo rows; returns files written."""
    written = 0
    for i, course in enumerate(courses):
        picture = draw_picture(
            course.name,
            f"Luffy course {course.pk}",
            size=(640, 360),
            color=_PALETTE[i % len(_PALETTE)],
        )
        written += _attach(course.course_img, f"demo-course-{course.pk}.jpg", picture)
    for i, teacher in enumerate(teachers):
        picture = draw_picture(
            teacher.name, teacher.name, size=(240, 240), color=_PALETTE[-1 - i % len(_PALETTE)]
        )
        written += _attach(teacher.image, f"demo-teacher-{teacher.pk}.jpg", picture)
    by_name = {c.name: c for c in courses}
    for i, (title, link, course_name) in enumerate(BANNERS):
        if course_name is not None:
            link = link.format(pk=by_name[course_name].pk)
        banner, _ = Banner.objects.update_or_create(
            title=title, defaults={"link": link, "orders": i, "is_show": True}
        )
        picture = draw_picture(title, f"Luffy banner {i + 1}", size=(1200, 360), color=_PALETTE[i])
        written += _attach(banner.image, f"demo-banner-{i + 1}.jpg", picture)
    written += ensure_demo_video()
    return written
