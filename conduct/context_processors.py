from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from conduct.branding import branding_for
from conduct.permissions import is_officer


def site(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "is_officer": bool(user and is_officer(user)),
        # The viewer's trust's branding, read (one query) only if the page shows it.
        "branding": SimpleLazyObject(lambda: branding_for(user) or False),
    }
