"""A trust's branding: its logo and accent colour, on its people's pages (and their name beside the logo).

The accent colour must be readable both ways it is used, white text on it (buttons, the header bar) and it
as text on white (links), which is the same contrast ratio: at least 4.5:1 (WCAG 2.2 AA for body text),
checked on save with a clear message. The logo is a PNG or JPEG (checked by decoding it, never by its name;
SVG is refused: it can carry scripts), within a size limit. Pages link a small per-trust style sheet
(``/branding/<slug>.css``) rather than inline styles, which the coming strict CSP forbids.
Whose branding applies: the viewer's trust, the root of the organisations they hold roles in.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, router, transaction
from django.db.models import Exists, F, JSONField, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.db.models.lookups import StartsWith
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from conduct.audit import audit_log_record
from conduct.models import AuditAction, Branding, Organisation, Person, Role
from conduct.permissions import can_change_branding, with_viewer_roles
from core.canonical import sha256_hex

MIN_CONTRAST = 4.5  # WCAG 2.2 AA, text under 18pt
MAX_LOGO_BYTES = 200 * 1024  # a trust's logo as a web PNG is 5-50 KB; 200 KB allows a detailed one
MAX_LOGO_PIXELS = 2000  # on either side; it is shown at most 48 px high
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG's relative luminance of ``#rrggbb``."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def check_accent(colour: str) -> str:
    """The colour, lower-case ``#rrggbb``, or a clear error when it is not one or not readable with white."""
    colour = colour.strip()
    if not HEX_COLOUR.fullmatch(colour):
        raise ValidationError({"accent_colour": "Give the colour as # and six hexadecimal digits, e.g. #1d4f91."})
    ratio = contrast_ratio(colour.lower(), "#ffffff")
    if ratio < MIN_CONTRAST:
        raise ValidationError(
            {
                "accent_colour": f"{colour} has a contrast of {ratio:.2f}:1 with white; at least {MIN_CONTRAST}:1 is "
                "needed so that white text on it, and it as text on white, can be read. Choose a darker shade."
            }
        )
    return colour.lower()


def check_logo(data: bytes) -> tuple[str, int, int]:
    """(content type, width, height) of a PNG or JPEG logo; anything else, or too big, is refused."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ValidationError({"logo": "The file is empty."})
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError(
            {"logo": f"The logo is {len(data) // 1024} KB; the limit is {MAX_LOGO_BYTES // 1024} KB."}
        )
    if data.lstrip()[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in data[:1024].lower():
        raise ValidationError({"logo": "SVG logos are not accepted (they can carry scripts); upload a PNG or JPEG."})
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            if width > MAX_LOGO_PIXELS or height > MAX_LOGO_PIXELS:
                raise ValidationError(
                    {"logo": f"The logo is {width}×{height} pixels; at most {MAX_LOGO_PIXELS} on each side."}
                )
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError({"logo": "This file is not a PNG or JPEG picture, or it is damaged."}) from None
    if kind not in LOGO_TYPES:
        raise ValidationError({"logo": f"This is a {kind} picture; upload a PNG or JPEG."})
    return LOGO_TYPES[kind], width, height


def _facts(branding: Branding | None) -> dict | None:
    if branding is None:
        return None
    return {"accent_colour": branding.accent_colour, "logo_sha256": branding.logo_sha256}


@transaction.atomic
def branding_update(
    *,
    actor: Person,
    organisation: Organisation,
    accent_colour: str,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Branding:
    """Set a trust's accent colour and, optionally, a new logo (or none); audited with before and after."""
    if not can_change_branding(actor, organisation):
        raise PermissionDenied("Only a trust's admins change its branding.")
    colour = check_accent(accent_colour) if accent_colour.strip() else ""
    logo_type = ""
    if logo is not None:
        logo_type, _width, _height = check_logo(logo)
    branding = Branding.objects.select_for_update().filter(organisation=organisation).first()
    before = _facts(branding)
    if branding is None:
        branding = Branding(organisation=organisation)
    branding.accent_colour = colour
    if logo is not None:
        branding.logo, branding.logo_type, branding.logo_sha256 = logo, logo_type, sha256_hex(logo)
    elif remove_logo:
        branding.logo, branding.logo_type, branding.logo_sha256 = b"", "", ""
    branding.updated_by = actor
    branding.updated_at = timezone.now()
    branding.save()
    after = _facts(branding)
    if after != before:
        audit_log_record(
            actor=actor,
            action=AuditAction.BRANDING_CHANGED,
            organisation=organisation,
            target=branding,
            summary=f"Changed the branding of {organisation.name}",
            details={"before": before, "after": after},
        )
    return branding


@dataclass(frozen=True)
class ViewerBranding:
    """What a page needs: the trust's name, and the addresses of its style sheet and logo (versioned)."""

    name: str
    slug: str
    has_logo: bool
    version: str


# The columns a page's header needs, read with the signed-in user (``conduct.auth_backends``) so that no page
# spends a query of its own on them; ``branding_for`` reads them in one query for a user loaded otherwise.
_VIEWER_BRANDING_FIELDS = {
    "name": "organisation__name",
    "slug": "organisation__slug",
    "logo_sha256": "logo_sha256",
    "accent": "accent_colour",
    "updated_at": "updated_at",
}
_ANNOTATION = "viewer_branding"


def with_viewer_branding(people: QuerySet[Person], on: date | None = None) -> QuerySet[Person]:
    """``people`` with their header branding annotated as one JSON object (``viewer_branding``, or null).

    Whose branding: the trust (top of the tree) of the person's earliest role current ``on`` (today) whose trust
    has one. One subquery for all the columns: five, one per column, made PostgreSQL spend about 7 ms planning the
    statement that every signed-in request runs (against about 1 ms for this one, on the 50,000-person data).
    """
    trusts_branding = Branding.objects.filter(organisation__parent__isnull=True).filter(
        StartsWith(OuterRef("organisation__path"), F("organisation__path"))  # the role's trust
    )
    roles = Role.objects.current(on).filter(person=OuterRef("pk")).filter(Exists(trusts_branding))
    earliest = roles.order_by("starts_on", "pk")
    columns = trusts_branding.annotate(value=JSONObject(**_VIEWER_BRANDING_FIELDS)).values("value")[:1]
    return people.annotate(
        **{_ANNOTATION: Subquery(earliest.annotate(value=Subquery(columns)).values("value")[:1], JSONField())}
    )


# Building and compiling the subqueries costs more than running them (about 5 ms of Python against 1 ms of
# SQL on PostgreSQL), and every signed-in request reads its user this way: the statement is compiled once per
# database, with marks where the day and the user's id go, and run with today's date and the id put in their place.
_DAY_MARK = date(1001, 1, 1)  # no role's date: stands in for today in the compiled statement
_PK_MARK = -1_000_000_007  # no person's id: stands in for the user's


@lru_cache(maxsize=8)
def _signed_in_user_statement(alias: str) -> tuple[str, tuple[object, ...]]:
    people = with_viewer_roles(with_viewer_branding(Person.objects.filter(pk=_PK_MARK), on=_DAY_MARK), on=_DAY_MARK)
    sql, params = people.query.get_compiler(using=alias).as_sql()
    if list(params).count(_PK_MARK) != 1 or _day_param(alias, _DAY_MARK) not in params:
        raise RuntimeError("The signed-in user's statement no longer has one id and a day to fill in.")
    return sql, tuple(params)


def _day_param(alias: str, day: date) -> object:
    return connections[alias].ops.adapt_datefield_value(day)


def signed_in_user(user_id: object) -> Person | None:
    """The person with ``user_id``, their header branding (``with_viewer_branding``, today) and their current roles
    (``conduct.permissions.with_viewer_roles``: their grants and reach, with no query of their own), in one
    statement compiled once (the session middleware's read of the user on every request)."""
    pk = Person._meta.pk.to_python(user_id)
    alias = router.db_for_read(Person)
    sql, params = _signed_in_user_statement(alias)
    mark, today = _day_param(alias, _DAY_MARK), _day_param(alias, timezone.localdate())
    filled = [today if value == mark else pk if value == _PK_MARK else value for value in params]
    return next(iter(Person.objects.db_manager(alias).raw(sql, filled)), None)


def _as_moment(value: object) -> datetime | None:
    """A moment as the ORM gives it (aware), from what the driver gave: SQLite stores UTC without a zone."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else parse_datetime(str(value))
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def branding_for(user: Person | None) -> ViewerBranding | None:
    """The branding of the viewer's trust (see ``with_viewer_branding``), if it has one.

    No query for a user signed in through ``conduct.auth_backends`` (read with the user); one query otherwise.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, _ANNOTATION):
        user = with_viewer_branding(Person.objects.filter(pk=user.pk)).get()
    columns = getattr(user, _ANNOTATION)
    if isinstance(columns, str | bytes):  # a raw statement leaves the object as the driver gives it: SQLite's text
        columns = json.loads(columns)
    updated_at = _as_moment(columns["updated_at"]) if columns else None
    if not columns or columns.get("slug") is None or updated_at is None:
        return None
    version = sha256_hex(f"{columns['accent']}|{columns['logo_sha256']}|{updated_at.isoformat()}".encode())[:12]
    return ViewerBranding(
        name=columns["name"], slug=columns["slug"], has_logo=bool(columns["logo_sha256"]), version=version
    )


def branding_css(branding: Branding) -> str:
    """The per-trust style sheet: the accent on the header bar, primary buttons and links (contrast checked)."""
    accent = branding.accent_colour
    if not accent:
        return "/* No accent colour set. */\n"
    return (
        f":root {{ --brand-accent: {accent}; }}\n"
        f".brand-bar {{ background-color: {accent} !important; }}\n"
        f".btn-primary {{ --bs-btn-bg: {accent}; --bs-btn-border-color: {accent}; "
        f"--bs-btn-hover-bg: {accent}; --bs-btn-hover-border-color: {accent}; "
        f"--bs-btn-active-bg: {accent}; --bs-btn-active-border-color: {accent}; "
        f"--bs-btn-disabled-bg: {accent}; --bs-btn-disabled-border-color: {accent}; }}\n"
        f"main a:not(.btn) {{ color: {accent}; }}\n"
    )
