"""The production URLs plus the benchmark's floor view: never imported by production settings.

The floor is a plain response behind the same middleware as every page (sessions, authentication, CSRF,
security headers, messages, the client's address…), so the ratio of a page to it is what the page itself costs.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as production_urlpatterns

FLOOR_PATH = "benchmark-floor/"


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("floor", content_type="text/plain; charset=utf-8")


urlpatterns = [path(FLOOR_PATH, floor, name="benchmark_floor"), *production_urlpatterns]
