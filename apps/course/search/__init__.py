"""Course search behind one small interface, so the index can change without touching the API.

The API's search (`selectors.search_courses`) asks the configured backend for *candidates*: a
condition every course matching the words satisfies. The old predicate (every word in the name
or brief by `icontains`, a numeric word may match a price) is then applied to the candidates and
decides, so a backend can only make search faster, never change what it finds: an index that
returns too many candidates costs time, one that returned too few would be a bug the property
test (tests/course/test_search_backends.py) looks for. A backend may also say which words it
decides exactly (`decides`): those skip the predicate, and when it decides every word of a
search with no filter and the default ordering, the index alone counts and pages
(`selectors.IndexedSearch`); such counts are cached, exactly, until the next course write
(`counts.py`), and anonymous pages of them are served from cards (apps/course/document_views.py).

Backends (SEARCH_BACKEND):
  like     no index: no narrowing, the predicate scans the catalog (SQLite, any MariaDB).
  mroonga  a Mroonga full-text table on MariaDB (apps/course/search/mroonga.py), with optional
           accelerators (accelerators/, SEARCH_ACCELERATORS).
An Elasticsearch backend would implement the same protocol, answering `Q(pk__in=ids)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Q


class CourseSearch(Protocol):
    name: str

    def matching(self, words: list[str]) -> Q | None:
        """A condition every course matching all `words` meets (None: no narrowing)."""

    def decides(self, words: list[str]) -> frozenset[str]:
        """The words whose index match is exactly the predicate's (no re-check needed), given
        that `matching` narrowed; only among visible courses (the index holds no others)."""

    def count(self, words: list[str], *, reads: dict[str, Any] | None = None) -> int:
        """How many visible courses hold every word; only when `decides` covers all words.
        `reads`: a dict of this one search (selectors.IndexedSearch) where the backend may
        leave what it read for the page that follows."""

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
        """Ids of visible courses holding every word by (orders, id), -orders when descending;
        only when `decides` covers all words. `count`: the search's, when known (it tells how
        common the words are, so how best to read the page); `reads`: the count's."""

    def index(self, course_ids: Iterable[int], *, until_commit: bool = False) -> None:
        """Bring these courses' entries up to date from the database.

        until_commit: the caller's transaction may still roll back; an index that cannot roll
        back with it must go on finding the courses by their previous text too.
        """

    def remove(self, course_ids: Iterable[int]) -> None:
        """Forget these courses (called once their delete has committed)."""

    def rebuild(self) -> int:
        """Index the whole catalog from scratch; returns how many courses it indexed."""

    def problem(self) -> str:
        """Why this backend cannot serve searches right now ('' when it can)."""


@cache
def _backend(name: str) -> CourseSearch:
    if name == "mroonga":
        from .mroonga import MroongaSearch

        return MroongaSearch()
    from .like import LikeSearch

    return LikeSearch()


def search_backend() -> CourseSearch:
    """The backend SEARCH_BACKEND names (settings.py checks the name)."""
    return _backend(settings.SEARCH_BACKEND)
