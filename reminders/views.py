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
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from conduct.http import AuthenticatedHttpRequest
from conduct.models import Code
from conduct.permissions import codes_for_reminders, manages_reminders, reminders_q
from reminders.forms import ReminderLogFilterForm, ReminderStepsForm
from reminders.models import ReminderLog, ReminderStatus
from reminders.selectors import email_problems
from reminders.steps import code_reminder_steps_update

LOG_PAGE_SIZE = 50
RECENT_DAYS = 30


def _require_reminders(request: AuthenticatedHttpRequest) -> None:
    if not manages_reminders(request.user):
        raise Http404("You do not manage reminders for any organisation.")


def _codes(request: AuthenticatedHttpRequest) -> QuerySet[Code]:
    return codes_for_reminders(request.user).select_related("owner").order_by("owner__name", "title")


def _log(request: AuthenticatedHttpRequest) -> QuerySet[ReminderLog]:
    return ReminderLog.objects.filter(reminders_q(request.user, "organisation"))


@login_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_reminders(request)
    since = timezone.localdate() - timedelta(days=RECENT_DAYS)
    counts = (
        _log(request)
        .filter(planned_for__gte=since)
        .aggregate(**{status: Count("pk", filter=Q(status=status)) for status in ReminderStatus.values})
    )
    recent = [(status, label, counts[status]) for status, label in ReminderStatus.choices]
    return render(request, "reminders/index.html", {"codes": _codes(request), "recent": recent, "since": since})


@login_required
@require_http_methods(["GET", "POST"])
def code_steps(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    code = get_object_or_404(_codes(request), slug=slug)
    form = ReminderStepsForm(request.POST or None, code=code)
    if request.method == "POST" and form.is_valid():
        try:
            code_reminder_steps_update(code=code, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Reminder settings for {code.title} saved. They apply from the next daily run.")
            return redirect("reminders:index")
    return render(request, "reminders/code_steps.html", {"code": code, "form": form})


@login_required
def log(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_reminders(request)
    filters = ReminderLogFilterForm(request.GET or None)
    reminders = _log(request).select_related("recipient", "organisation", "code").order_by("-planned_for", "-pk")
    if filters.is_valid():
        reminders = filters.narrow(reminders)
    page = Paginator(reminders, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    # Receipts, invitations, reminders and digests that the mail server refused, that were given up, or that
    # wait with an error (an unreachable server), above the unfiltered log.
    problems = [] if set(request.GET) - {"page"} else email_problems(request.user)
    return render(request, "reminders/log.html", {"page": page, "filters": filters, "email_problems": problems})
