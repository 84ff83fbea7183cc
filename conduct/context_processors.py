from django.conf import settings
from django.http import HttpRequest

from conduct.permissions import is_officer


def site(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "is_officer": bool(user and is_officer(user)),
    }
