"""The admin front page's learning block: who started, who finished a course, average progress
(issue 26), beside the sales block and apart from it."""

from __future__ import annotations

from django import template

from apps.course.selectors import learning_completion

register = template.Library()


@register.inclusion_tag("admin/dashboard/learning.html", takes_context=True)
def learning_dashboard(context) -> dict:
    if not context["request"].user.has_perm("course.view_course"):
        return {"allowed": False}
    return {"allowed": True, "figures": learning_completion()}
