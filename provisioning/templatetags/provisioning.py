"""The Provisioning menu link: shown to those who manage provisioning somewhere (from the cached grants)."""

from __future__ import annotations

from django import template
from django.http import HttpRequest

from conduct.permissions import manages_provisioning

register = template.Library()


@register.filter
def manages_provisioning_somewhere(user) -> bool:
    return manages_provisioning(user)


@register.filter
def is_provisioning_page(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and match.namespace == "provisioning")
