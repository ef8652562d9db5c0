"""Learning progress endpoints: the player reports a lesson, the study page reads a course."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from utils.authentication import LuffyJWTAuthentication
from utils.beacon import BeaconBodyParser, BeaconTokenAuthentication
from utils.response import APIResponse
from utils.schema import error_response
from utils.serializers import EnvelopeCodeField, validated

from . import selectors, services
from .serializers import (
    BeaconReportSerializer,
    ChapterQuerySerializer,
    CourseProgressSerializer,
    LessonStateSerializer,
    ProgressReportSerializer,
)
from .views import COURSE_PARAM


def _envelope(name: str, result: serializers.Serializer) -> serializers.Serializer:
    return inline_serializer(
        name, {"code": EnvelopeCodeField(), "msg": serializers.CharField(), "result": result}
    )


REPORT_RULES = (
    "Seconds; fractions are dropped. `watched` never decreases (two tabs reporting at once "
    "keep the larger) and is capped at the lesson's length (its video's duration); the lesson "
    "is `completed` once `watched` reaches 90 % of that length or a report says `ended`. A "
    "lesson without a known length completes only by `ended`. Only an owner of the course "
    "records progress: a free-trial lesson watched before buying is a 403, and so is every "
    "lesson of a refunded course. 404: no such lesson. 400: a negative value, a day or more, "
    "or a `position` past the video's end (30 s of slack). Nothing is stored on any error."
)
REPORT_EXAMPLE = OpenApiExample(
    "A report", {"position": 130.4, "watched": 118, "ended": False}, request_only=True
)
STATE_EXAMPLE = OpenApiExample(
    "Progress kept",
    {
        "code": 100,
        "msg": "ok",
        "result": {"section": 7, "position": 130, "watched": 118, "completed": False},
    },
    response_only=True,
)
STATE_RESULT = _envelope("LessonProgressResult", LessonStateSerializer())
REPORT_ERRORS = {
    403: error_response("The learner does not own the lesson's course"),
    404: error_response("No such lesson"),
}


class ProgressReportView(APIView):
    """The player's report of one lesson: PUT with the token header, or POST as a beacon."""

    permission_classes = [IsAuthenticated]
    authentication_classes = [LuffyJWTAuthentication, BeaconTokenAuthentication]
    parser_classes = [JSONParser, BeaconBodyParser]

    @extend_schema(
        summary="Report a lesson's progress",
        description="Sent by the player every ~15 s, on pause and on end. " + REPORT_RULES,
        request=ProgressReportSerializer,
        responses={
            200: STATE_RESULT,
            **REPORT_ERRORS,
        },
        examples=[REPORT_EXAMPLE, STATE_EXAMPLE],
    )
    def put(self, request: Request, section_id: int) -> APIResponse:
        data = validated(ProgressReportSerializer, request.data)
        state = services.record_progress(request.user, section_id, **data)
        return APIResponse(result=LessonStateSerializer(state).data)

    @extend_schema(
        summary="Report a lesson's progress from a beacon",
        description="The same report sent with `navigator.sendBeacon` when the page is hidden: "
        "a beacon cannot set `Authorization`, so the access token comes in the body's `token` "
        "(the body may be sent as `text/plain`; it is read as JSON). " + REPORT_RULES,
        request=BeaconReportSerializer,
        responses={
            200: STATE_RESULT,
            **REPORT_ERRORS,
        },
        examples=[
            OpenApiExample(
                "A beacon",
                {"token": "<access token>", "position": 131, "watched": 119},
                request_only=True,
            ),
            STATE_EXAMPLE,
        ],
    )
    def post(self, request: Request, section_id: int) -> APIResponse:
        data = validated(BeaconReportSerializer, request.data)
        data.pop("token")
        state = services.record_progress(request.user, section_id, **data)
        return APIResponse(result=LessonStateSerializer(state).data)


class CourseProgressView(APIView):
    """One course's progress for the logged-in owner: the study page and its resume point."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Read my progress in a course",
        description="Every lesson of the course in order with the learner's position, watched "
        "seconds and completion; `progress` is completed lessons ÷ lessons in percent; "
        "`resume_section` is where to pick up: the lesson watched last if unfinished (at its "
        "position), else the next unfinished one, else the first lesson at 0. Owners only: "
        "403 for a course not owned (or refunded: progress is kept, not shown), 404 for no "
        "such course.",
        parameters=[COURSE_PARAM],
        responses={
            200: _envelope("CourseProgressResult", CourseProgressSerializer()),
            403: error_response("The learner does not own the course"),
            404: error_response("No such course"),
        },
        examples=[
            OpenApiExample(
                "Halfway through lesson 2",
                {
                    "code": 100,
                    "msg": "ok",
                    "result": {
                        "course": 1,
                        "progress": 50,
                        "completed_lessons": 1,
                        "lessons": [
                            {
                                "section": 7,
                                "name": "1.1 Welcome",
                                "position": 300,
                                "watched": 300,
                                "completed": True,
                            },
                            {
                                "section": 8,
                                "name": "1.2 Setting up",
                                "position": 130,
                                "watched": 118,
                                "completed": False,
                            },
                        ],
                        "resume_section": {"section": 8, "name": "1.2 Setting up", "position": 130},
                    },
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> APIResponse:
        course_id = validated(ChapterQuerySerializer, request.query_params)["course"]
        progress = selectors.owned_course_progress(request.user, course_id)
        return APIResponse(result=CourseProgressSerializer(progress).data)
