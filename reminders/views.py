"""Admins' reminder pages: the steps per code and the log of every reminder.

Only people who may manage reminders (``Action.MANAGE_REMINDERS``: admins)
reach them, and only for the organisations they administer: everything else
is a 404, as if it did not exist.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from conduct.models import Code, Organisation
from conduct.permissions import Action, organisations_for, scope_q
from reminders.forms import ReminderLogFilterForm, ReminderStepsForm
from reminders.models import ReminderLog, ReminderStatus
from reminders.steps import code_reminder_steps_update

LOG_PAGE_SIZE = 50


def _administered(user) -> QuerySet[Organisation]:
    organisations = organisations_for(user, Action.MANAGE_REMINDERS)
    if not organisations.exists():
        raise Http404("You do not manage reminders for any organisation.")
    return organisations


def _codes(user) -> QuerySet[Code]:
    return (
        Code.objects.filter(owner__in=organisations_for(user, Action.MANAGE_REMINDERS).values("pk"))
        .select_related("owner")
        .order_by("owner__name", "title")
    )


def _log(user) -> QuerySet[ReminderLog]:
    return ReminderLog.objects.filter(scope_q(user, Action.MANAGE_REMINDERS, "organisation"))


@login_required
def index(request: HttpRequest) -> HttpResponse:
    _administered(request.user)
    since = timezone.localdate() - timedelta(days=30)
    counts = (
        _log(request.user)
        .filter(planned_for__gte=since)
        .aggregate(**{status: Count("pk", filter=Q(status=status)) for status in ReminderStatus.values})
    )
    recent = [(status, label, counts[status]) for status, label in ReminderStatus.choices]
    return render(request, "reminders/index.html", {"codes": _codes(request.user), "recent": recent, "since": since})


@login_required
@require_http_methods(["GET", "POST"])
def code_steps(request: HttpRequest, slug: str) -> HttpResponse:
    code = get_object_or_404(_codes(request.user), slug=slug)
    form = ReminderStepsForm(request.POST or None, code=code)
    if request.method == "POST" and form.is_valid():
        try:
            code_reminder_steps_update(code=code, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Reminder settings for {code.title} saved. They apply from the next daily run.")
            return redirect("reminders:index")
    return render(request, "reminders/code_steps.html", {"code": code, "form": form})


@login_required
def log(request: HttpRequest) -> HttpResponse:
    _administered(request.user)
    filters = ReminderLogFilterForm(request.GET or None)
    reminders = _log(request.user).select_related("recipient", "organisation", "code").order_by("-planned_for", "-pk")
    if filters.is_valid():
        data = filters.cleaned_data
        if data["q"]:
            reminders = reminders.filter(
                Q(recipient__full_name__icontains=data["q"]) | Q(recipient__email__icontains=data["q"])
            )
        if data["kind"]:
            reminders = reminders.filter(kind=data["kind"])
        if data["status"]:
            reminders = reminders.filter(status=data["status"])
    page = Paginator(reminders, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reminders/log.html", {"page": page, "filters": filters})
