"""Middleware the whole site shares."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.templatetags.form_errors import REJECTED_FORM_ATTRIBUTE


class RejectedFormStatusMiddleware:
    """A POST answered with a page that shows an error summary (a rejected form) gets 400, whichever view
    (ours or allauth's) rendered it, so every rejected form answers the same way."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method == "POST"
            and response.status_code == 200
            and getattr(request, REJECTED_FORM_ATTRIBUTE, False)
        ):
            response.status_code = 400
        return response
