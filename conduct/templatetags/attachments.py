"""``{% load attachments %}``: a version's attached files, listed with download links under its text."""

from django import template

from conduct.models import CodeVersion

register = template.Library()


@register.inclusion_tag("conduct/_version_files.html")
def version_files(version: CodeVersion) -> dict:
    """One query (the files' details, not their bytes); the page's view has already checked who may read it."""
    files = list(version.attachments.defer("content").order_by("position")) if version.pk else []
    return {"version": version, "files": files}
