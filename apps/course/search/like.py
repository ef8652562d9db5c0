"""The simple backend: no index; the search predicate scans every course (LIKE '%word%')."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q


class LikeSearch:
    name = "like"

    def matching(self, words: list[str]) -> Q | None:
        return None

    def decides(self, words: list[str]) -> frozenset[str]:
        return frozenset()

    def count(self, words: list[str], *, reads: dict[str, Any] | None = None) -> int:
        raise NotImplementedError("the LIKE backend decides no word")

    def page(
        self,
        words: list[str],
        *,
        descending: bool,
        offset: int,
        limit: int,
        count: int | None = None,
        reads: dict[str, Any] | None = None,
    ) -> list[int]:
        raise NotImplementedError("the LIKE backend decides no word")

    def index(self, course_ids: Iterable[int], *, until_commit: bool = False) -> None:
        pass

    def remove(self, course_ids: Iterable[int]) -> None:
        pass

    def rebuild(self) -> int:
        return 0

    def problem(self) -> str:
        return ""
