"""Headers every response carries that Django's SecurityMiddleware does not set.

- ``Permissions-Policy``: no page of this product uses the camera, microphone, location, payment or other
  powerful browser features, so none may (an injected script or frame cannot ask for them either).
- ``Cache-Control: no-store, private`` on HTML pages served to someone signed in: they show people's
  records, so neither a shared proxy nor the browser's history cache may keep a copy (a later user of a
  shared school computer pressing Back). Downloads set their own (core.downloads); a view that set
  Cache-Control itself is left alone.

The Content-Security-Policy is not set here: django-csp's middleware sends it, enforced, from
``CONTENT_SECURITY_POLICY`` in the settings (core/tests/test_security_headers.py checks both).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in and response.get("Content-Type", "").startswith("text/html") and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store, private"
        return response
