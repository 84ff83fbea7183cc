"""Small builders the demo, scale data and benchmarks share (never used by product code or tests' factories)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from conduct.models import Adoption, CodeVersion, Meeting, MeetingKind, Organisation, Person
from conduct.services import AdoptionRequest, adoption_record


def adopt_at_meeting(
    version: CodeVersion, board: Organisation, *, chair: Person, held_on: date, **request: Any
) -> Adoption:
    """Adopt ``version`` at a new full-board meeting of ``board`` on ``held_on``, signed by ``chair``."""
    meeting = Meeting.objects.create(board=board, held_on=held_on, kind=MeetingKind.FULL_BOARD)
    return adoption_record(
        request=AdoptionRequest(
            version=version,
            board=board,
            meeting=meeting,
            chair=chair,
            chair_signature=chair.full_name,
            effective_on=request.pop("effective_on", held_on),
            includes_sub_organisations=request.pop("includes_sub_organisations", True),
            **request,
        ),
        recorded_by=chair,
        today=max(timezone.localdate(), held_on),
    )
