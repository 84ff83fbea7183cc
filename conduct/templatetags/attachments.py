"""``{% load attachments %}``: a version's attached files, listed with download links under its text."""

from django import template
from django.core.cache import cache

from conduct.models import CodeVersion, VersionStatus

FILES_CACHE_SECONDS = 24 * 60 * 60

register = template.Library()


@register.inclusion_tag("conduct/_version_files.html")
def version_files(version: CodeVersion) -> dict:
    """One query (the files' details, not their bytes), none for adopted text once cached (the files are in the
    version's content hash, so they never change under it); the page's view has already checked who may read it."""

    def load() -> list:
        return list(version.attachments.defer("content").order_by("position")) if version.pk else []

    if not version.pk or version.status == VersionStatus.DRAFT or not version.content_hash:
        return {"version": version, "files": load()}
    key = f"version-files:{version.pk}:{version.created_at.timestamp()}:{version.content_hash}"
    files = cache.get(key)
    if files is None:
        files = load()
        cache.set(key, files, FILES_CACHE_SECONDS)
    return {"version": version, "files": files}
