"""Typed requests for views behind ``login_required``.

django-stubs types ``request.user`` as ``AbstractBaseUser | AnonymousUser``; a view
that requires sign-in annotates its request as ``AuthenticatedHttpRequest`` so the
type checker knows ``request.user`` is a ``Person`` (the user model, defined here in conduct).
"""

from __future__ import annotations

from django.http import HttpRequest

from conduct.models import Person


class AuthenticatedHttpRequest(HttpRequest):
    """Only an annotation: Django passes its own HttpRequest, whose user is a signed-in Person."""

    user: Person
