"""The demo's signing history: real evidence made through the services, some declarations, one paper record,
plenty left outstanding, and loading twice changes nothing."""

import pytest

from acknowledgements.evidence import acknowledgement_evidence_hash
from acknowledgements.models import Acknowledgement, Declaration, Obligation
from conduct.models import Person
from devtools.demo_acknowledgements import demo_load_acknowledgements

pytestmark = pytest.mark.django_db


def test_the_demo_has_real_signatures_declarations_and_a_paper_record(demo):
    acks = list(Acknowledgement.objects.select_related("person", "recorded_by"))
    assert len(acks) >= 10
    assert all(ack.evidence_hash == acknowledgement_evidence_hash(ack) for ack in acks)
    assert all(ack.obligation is not None and ack.obligation.acknowledged_at is not None for ack in acks)
    tom = Declaration.objects.filter(person__email="governor@llt.example").get()
    assert tom.interests.get().kind == "business"
    priya = Declaration.objects.filter(person__email="trustee@llt.example").order_by("made_at")
    assert priya.count() == 2 and {d.interests.get().kind for d in priya} == {"governance"}
    paper = [ack for ack in acks if ack.on_behalf]
    assert (
        len(paper) == 1
        and paper[0].recorded_by is not None
        and paper[0].recorded_by.email == "clerk@llt.example"
        and paper[0].person.email == "lgbchair@llt.example"
    )
    assert Declaration.objects.filter(nothing_to_declare=True).count() >= 5


def test_plenty_is_left_outstanding_and_overdue(demo):
    from django.utils import timezone

    open_obligations = Obligation.objects.open().for_current_roles()
    assert open_obligations.count() >= 12
    assert open_obligations.filter(due_on__lt=timezone.localdate()).count() >= 10
    # The people the README points at still have something to do.
    for email in ("staff@att.example", "reviewer@cp.example"):
        assert open_obligations.filter(person__email=email).exists(), email


def test_loading_again_changes_nothing(demo):
    counts = (Acknowledgement.objects.count(), Declaration.objects.count())
    assert demo_load_acknowledgements() == {}
    assert (Acknowledgement.objects.count(), Declaration.objects.count()) == counts


def test_demo_people_can_see_their_records(demo, client_for):
    tom = Person.objects.get(email="governor@llt.example")
    page = client_for(tom).get("/my-codes/").content.decode()
    assert "Leading Learners Trust Code of Conduct" in page and "Hughes Building Services Ltd" in page
