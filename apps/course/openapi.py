"""Examples of the catalog's answers for the API docs (/api/docs/), as a shopper sees them."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

SECTION_LINK_RULE = (
    "`section_link` is a playable URL for sections marked `free_trail` (free preview) and, for "
    "a logged-in buyer who owns the course, for every section; it is null for everyone else "
    "(log in with `Authorization: jwt <token>` to get the owner's links). An owner's link "
    "expires (QINIU_LINK_TTL, or MEDIA_LINK_TTL on local storage) and stops working once the "
    "course is refunded: read the section again for a fresh one."
)

TEACHER = {
    "id": 1,
    "name": "Alex",
    "role": 0,
    "role_name": "讲师",
    "title": "Python 高级讲师",
    "signature": "写能读懂的代码",
    "image": "https://shop.example.com/media/teachers/alex.png",
    "brief": "十年 Python 后端开发经验",
}
COURSE = {
    "id": 1,
    "name": "Python 全栈开发",
    "course_img": "https://shop.example.com/media/courses/python.png",
    "course_type": "actual",
    "course_type_name": "实战课",
    "brief": "从零到上线一个 Django + Vue 商城",
    "level_name": "初级",
    "status_name": "上线",
    "period": 30,
    "students": 1024,
    "sections": 12,
    "pub_sections": 12,
    "price": "299.00",
    "discount_type": "限时折扣",
    "real_price": "199.00",
    "teacher": TEACHER,
    "section_list": [
        {
            "id": 11,
            "name": "1.1 课程介绍",
            "section_link": "https://video.example.com/videos/intro.mp4?e=1767225600&token=…",
            "duration": "05:20",
            "free_trail": True,
        },
        {
            "id": 12,
            "name": "1.2 环境搭建",
            "section_link": None,
            "duration": "12:45",
            "free_trail": False,
        },
    ],
    "owned": False,
}

CATEGORIES = OpenApiExample(
    "Categories",
    value={"code": 100, "msg": "成功", "result": [{"id": 1, "name": "Python"}]},
    response_only=True,
)
# List examples are one item: the docs put it in the page (or the array) themselves.
COURSE_PAGE = OpenApiExample("A page of courses", value=COURSE, response_only=True)
OWNED_COURSE_PAGE = OpenApiExample(
    "A page of my courses",
    value={
        **COURSE,
        "owned": True,
        "progress": 33,
        "resume_section": {"section": 8, "name": "1.2 Setting up", "position": 130},
    },
    response_only=True,
)
COURSE_DETAIL = OpenApiExample(
    "A course",
    value={
        **COURSE,
        "pub_date": "2026-01-05",
        "description": "<h2>课程简介</h2><p>从零到上线一个商城。</p><ul><li>Django + Vue</li></ul>",
        "course_category": {"id": 1, "name": "Python"},
    },
    response_only=True,
)
TEACHER_COURSES = OpenApiExample(
    "A teacher and their courses",
    value={**TEACHER, "courses": [COURSE]},
    response_only=True,
)
CHAPTERS = OpenApiExample(
    "Chapters of a course",
    value={
        "id": 1,
        "name": "入门",
        "chapter": 1,
        "summary": "准备开发环境",
        "coursesections": [
            {
                "id": 11,
                "name": "1.1 课程介绍",
                "orders": 1,
                "section_type": 2,
                "section_link": "https://video.example.com/videos/intro.mp4?e=1767225600&token=…",
                "duration": "05:20",
                "free_trail": True,
            },
            {
                "id": 12,
                "name": "1.2 环境搭建",
                "orders": 2,
                "section_type": 2,
                "section_link": None,
                "duration": "12:45",
                "free_trail": False,
            },
        ],
    },
    response_only=True,
)
