"""Pages for the yearly cycle at board level: meetings and attendance, adoption, certificates, history.

Each view: a permission-scoped getter (404 for records the user may not see),
a form, one call into a service, a redirect.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from conduct import meetings as meeting_services
from conduct import selectors
from conduct.forms import AdoptionForm, AttendanceForm, MeetingForm
from conduct.http import AuthenticatedHttpRequest
from conduct.models import BOARD_KINDS, Adoption, Attendance, Code, CodeVersion, Meeting, Organisation
from conduct.permissions import (
    boards_for_adoption,
    can_follow_code,
    can_hold_meetings,
    can_take_to_adoption,
    can_view_adoption,
)
from conduct.services import AdoptionRequest, adoption_record, default_review_due_on
from core.forms import add_service_errors
from core.request_meta import clean_user_agent, client_ip

MEETINGS_PER_PAGE = 20


# ---------------------------------------------------------------------------
# Permission-scoped lookups
# ---------------------------------------------------------------------------


def _board(request: AuthenticatedHttpRequest, slug: str) -> Organisation:
    board = get_object_or_404(Organisation.objects.select_related("governs"), slug=slug, kind__in=BOARD_KINDS)
    if not can_hold_meetings(request.user, board):
        raise Http404("No such board.")
    return board


def _board_to_adopt(request: AuthenticatedHttpRequest, version: CodeVersion, slug: str) -> Organisation:
    """One of the boards that may adopt the version's code and for which the user adopts."""
    return get_object_or_404(boards_for_adoption(request.user, version.code), slug=slug)


def _meeting(request: AuthenticatedHttpRequest, pk: int) -> Meeting:
    meeting = get_object_or_404(Meeting.objects.select_related("board__governs", "created_by"), pk=pk)
    if not can_hold_meetings(request.user, meeting.board):
        raise Http404("No such meeting.")
    return meeting


def _code(request: AuthenticatedHttpRequest, slug: str) -> Code:
    code = get_object_or_404(Code.objects.select_related("owner", "derived_from__code__owner"), slug=slug)
    if not can_follow_code(request.user, code):
        raise Http404("No such code.")
    return code


def _version_to_adopt(request: AuthenticatedHttpRequest, slug: str, pk: int) -> CodeVersion:
    version = get_object_or_404(
        CodeVersion.objects.select_related("code__owner", "code__derived_from__code__owner", "based_on"),
        pk=pk,
        code__slug=slug,
    )
    if not can_take_to_adoption(request.user, version):
        raise Http404("No such version.")
    return version


def _adoption(request: AuthenticatedHttpRequest, pk: int) -> Adoption:
    adoption = get_object_or_404(
        Adoption.objects.select_related(
            "version__code__owner", "board", "organisation", "meeting", "chair", "recorded_by", "certificate"
        ),
        pk=pk,
    )
    if not can_view_adoption(request.user, adoption):
        raise Http404("No such adoption.")
    return adoption


def _safe_next(request: AuthenticatedHttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


# ---------------------------------------------------------------------------
# Overview
# ---------------------------------------------------------------------------


@login_required
def governance(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Everything an officer does in the yearly cycle, in one place: codes, boards and reviews due."""
    overview = selectors.governance_overview(request.user)
    if overview.is_empty:
        raise Http404("Nothing to govern here.")
    return render(request, "conduct/governance.html", {"overview": overview})


# ---------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------


@login_required
def code_history(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    code = _code(request, slug)
    history = selectors.code_history(request.user, code, timezone.localdate())
    return render(request, "conduct/code_history.html", {"code": code, "history": history})


# ---------------------------------------------------------------------------
# Meetings
# ---------------------------------------------------------------------------


@login_required
def board_meetings(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    board = _board(request, slug)
    today = timezone.localdate()
    page = Paginator(selectors.meetings_with_attendance(board), MEETINGS_PER_PAGE).get_page(request.GET.get("page"))
    members = meeting_services.board_members(board, today)
    return render(
        request, "conduct/board_meetings.html", {"board": board, "page": page, "members": members, "today": today}
    )


@login_required
def meeting_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    board = _board(request, slug)
    form = MeetingForm(request.POST or None, initial={"held_on": timezone.localdate()})
    next_url = _safe_next(request)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = meeting_services.meeting_create(board=board, created_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Meeting on {meeting.held_on:%-d %B %Y} added.")
            return redirect(next_url or reverse("conduct:meeting", args=[meeting.pk]))
    return render(request, "conduct/meeting_form.html", {"board": board, "form": form, "next": next_url})


@login_required
def meeting_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    form = MeetingForm(request.POST or None, initial=MeetingForm.initial_for(meeting))
    if request.method == "POST" and form.is_valid():
        try:
            meeting_services.meeting_update(meeting=meeting, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Meeting details saved.")
            return redirect("conduct:meeting", meeting.pk)
    return render(request, "conduct/meeting_form.html", {"board": meeting.board, "meeting": meeting, "form": form})


@login_required
def meeting_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The meeting, and the attendance form for the board's members on that day."""
    meeting = _meeting(request, pk)
    members = list(meeting_services.board_members(meeting.board, meeting.held_on))
    current = dict(Attendance.objects.filter(meeting=meeting).values_list("person_id", "status"))
    form = AttendanceForm(request.POST or None, members=members, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            meeting_services.attendance_record(meeting=meeting, statuses=form.statuses(), by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Attendance saved.")
            return redirect("conduct:meeting", meeting.pk)
    others = (
        Attendance.objects.filter(meeting=meeting)
        .exclude(person__in=members)
        .select_related("person")
        .order_by("person__full_name")
    )
    adoptions = meeting.adoptions.select_related("version__code")
    return render(
        request,
        "conduct/meeting_detail.html",
        {
            "meeting": meeting,
            "board": meeting.board,
            "form": form,
            "members": members,
            "others": others,
            "adoptions": adoptions,
            "in_future": meeting.held_on > timezone.localdate(),
        },
    )


# ---------------------------------------------------------------------------
# Adoption
# ---------------------------------------------------------------------------


@login_required
def adoption_start(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Choose the board that is adopting (skipped when the user adopts for only one)."""
    version = _version_to_adopt(request, slug, pk)
    boards = list(boards_for_adoption(request.user, version.code))
    if not boards:
        raise Http404("You cannot adopt codes for any board of this organisation.")
    adopted_by = set(version.adoptions.values_list("board_id", flat=True))
    open_boards = [b for b in boards if b.pk not in adopted_by]
    if len(open_boards) == 1 and len(boards) == 1:
        return redirect("conduct:adopt", version.code.slug, version.pk, open_boards[0].slug)
    return render(
        request,
        "conduct/adoption_start.html",
        {"code": version.code, "version": version, "boards": boards, "adopted_by": adopted_by},
    )


@login_required
def adoption_create(request: AuthenticatedHttpRequest, slug: str, pk: int, board_slug: str) -> HttpResponse:
    version = _version_to_adopt(request, slug, pk)
    board = _board_to_adopt(request, version, board_slug)
    today = timezone.localdate()
    meetings = board.meetings.filter(held_on__lte=today).order_by("-held_on", "-pk")
    chairs = selectors.recent_chairs(board, today)
    governed = board.governs or board
    user_is_chair = chairs.filter(pk=request.user.pk).exists()
    first_chair, latest_meeting = chairs.first(), meetings.first()
    initial = {
        "chair": request.user.pk if user_is_chair else (first_chair.pk if first_chair else None),
        "effective_on": today,
        "meeting": latest_meeting.pk if latest_meeting else None,
    }
    form = AdoptionForm(
        request.POST or None,
        meetings=meetings,
        chairs=chairs,
        can_cover_below=governed.children.exists(),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            adoption = _record(request, version, board, data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{board.name} adopted {version.code.title} {version.label}. "
                f"{adoption.obligations.count()} people now owe a signature by {adoption.signing_due_on:%-d %B %Y}.",
            )
            return redirect("conduct:adoption", adoption.pk)
    previous = version.previous()
    context = {
        "code": version.code,
        "version": version,
        "board": board,
        "form": form,
        "has_meetings": meetings.exists(),
        "user_is_chair": user_is_chair,
        "chairs": chairs,
        "clause_count": version.clause_count(),
        "previous": previous,
        "default_review": default_review_due_on(adopted_on=today, effective_on=today),
    }
    return render(request, "conduct/adoption_form.html", context)


def _record(
    request: AuthenticatedHttpRequest, version: CodeVersion, board: Organisation, data: dict[str, Any]
) -> Adoption:
    """One call into the adoption service (which opens the signing round and queues the certificate)."""
    with transaction.atomic():
        adoption = adoption_record(
            request=AdoptionRequest(
                version=version,
                board=board,
                meeting=data["meeting"],
                chair=data["chair"],
                chair_signature=data["chair_signature"],
                effective_on=data["effective_on"],
                review_due_on=data.get("review_due_on"),
                signing_due_on=data.get("signing_due_on"),
                includes_sub_organisations=bool(data.get("includes_sub_organisations")),
                minute_reference=data.get("minute_reference", ""),
            ),
            recorded_by=request.user,
            ip_address=client_ip(request),
            user_agent=clean_user_agent(request.META.get("HTTP_USER_AGENT", "")),
        )
    return adoption


@login_required
def adoption_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    adoption = _adoption(request, pk)
    counts = adoption.obligations.aggregate(
        owed=Count("pk"), signed=Count("pk", filter=Q(acknowledged_at__isnull=False))
    )
    certificate = getattr(adoption, "certificate", None)
    return render(
        request,
        "conduct/adoption_detail.html",
        {
            "adoption": adoption,
            "code": adoption.version.code,
            "version": adoption.version,
            "counts": counts,
            "certificate": certificate,
        },
    )
