"""No NUL character reaches a view through the query string.

PostgreSQL cannot hold or compare text with a NUL in it, so a search such as
``/paper-signatures/?q=%00`` failed with a server error wherever a view passed
the parameter to a query. Forms refuse NUL in what they validate; for the query
string, read by views and filters directly, this middleware removes it once,
before any view runs (``core.forms.without_nul``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, QueryDict

from core.forms import without_nul


class NulFreeQueryStringMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            cleaned = QueryDict(mutable=True)
            for key, values in request.GET.lists():
                cleaned.setlist(without_nul(key), [without_nul(value) for value in values])
            cleaned._mutable = False
            request.GET = cleaned  # type: ignore[assignment]  # read-only again, as Django builds it
        return self.get_response(request)
