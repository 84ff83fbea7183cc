"""A realistic data set of a chosen size, for measuring reports at the scale of a large trust.

Default: one trust with 40 academies and 50,000 people (staff, trustees, local
governors, members), 3 codes (the trust's staff code in three yearly versions,
its governance code and a network's code in two), 150,000 acknowledgements
each with "first viewed" and "signed" events, and a network whose member
schools come from that trust (a quarter of its academies) and two smaller
ones, 90% of whose staff take part in its activities; 1,000 stored signed PDFs
for one academy. Past years were signed by 97% before the next version
replaced them; this year's round (adopted in September) shares out the
acknowledgements that remain, so the dashboard has people outstanding and
overdue as well as signed. About 3% of staff have left, 2% joined this term.

Everything goes through ``bulk_create`` in chunks; the yearly adoptions go
through the real adoption service, which opens the obligations (and
supersedes last year's unsigned ones) exactly as in production. The stored
PDFs reuse one small sealed PDF, each with an incremental-update comment
appended so every file has its own bytes and SHA-256.

The evidence hashes are SHA-256 over a canonical record of each row, but the
rows are synthetic: they are for measuring reports, not for verification.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from acknowledgements.models import (
    Acknowledgement,
    AuditEvent,
    EventKind,
    Obligation,
    SealedPdf,
)
from conduct.models import (
    Code,
    CodeVersion,
    Meeting,
    NetworkMembership,
    Organisation,
    Person,
    Role,
    RoleKind,
    role_label,
)
from conduct.services import (
    AdoptionRequest,
    adoption_record,
    version_create_from_content,
)
from core.academic_year import version_label
from core.canonical import canonical_json, new_verification_code, sha256_hex
from core.pdf import render_pdf, seal_pdf
from core.request_meta import AuthMethod
from devtools.benchmarking import analyse
from devtools.demo_conduct import read_code_file

LONDON = ZoneInfo("Europe/London")
FIRST_NAMES = [
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Isabella",
    "Rosie",
    "Sophia",
    "Grace",
    "Freya",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Muhammad",
    "Leo",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Theo",
    "Jack",
    "Charlie",
    "Aisha",
    "Priya",
    "Chloe",
    "Zara",
    "Kwame",
    "Tomasz",
    "Siobhan",
    "Niamh",
    "Rhys",
    "Dylan",
    "Megan",
    "Bethan",
    "Ewan",
    "Callum",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Robinson",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Ahmed",
    "Hussain",
    "Begum",
    "Murphy",
    "Kelly",
    "O'Brien",
    "Campbell",
    "Stewart",
    "MacDonald",
    "Hughes",
    "Lewis",
    "Morgan",
    "Price",
    "Okafor",
    "Mensah",
    "Nowak",
    "Kowalski",
    "Rossi",
]
STAFF_KINDS = [(RoleKind.EMPLOYEE, 90), (RoleKind.AGENCY_WORKER, 4), (RoleKind.CONTRACTOR, 3), (RoleKind.VOLUNTEER, 3)]
NETWORK_KINDS = [
    RoleKind.REVIEWER,
    RoleKind.LEAD_REVIEWER,
    RoleKind.FACILITATOR,
    RoleKind.NETWORK_PARTICIPANT,
    RoleKind.WORKSHOP_PARTICIPANT,
]
TITLES = ["Teacher", "Teacher", "Teacher", "Teaching assistant", "Administrator", "Site manager", "Midday supervisor"]
STATEMENT = "I have read and understood {code} {version} and agree to abide by it."


@dataclass
class ScaleSpec:
    prefix: str = "scale"
    academies: int = 40
    people: int = 50_000
    acknowledgements: int = 150_000
    pdfs: int = 1_000
    small_trusts: int = 2
    small_trust_academies: int = 4
    small_trust_people: int = 400
    governors_per_board: int = 9
    network_share: float = 0.9  # of the staff of member schools who also take part in the network's activities
    history_share: float = 0.97  # of each past version's signatures made before the next one replaced it
    chunk: int = 5_000
    seed: int = 2026
    today: date = field(default_factory=timezone.localdate)


@dataclass
class ScaleResult:
    counts: dict[str, int] = field(default_factory=dict)
    trust: Organisation | None = None
    pdf_academy: Organisation | None = None
    admin: Person | None = None

    def add(self, what: str, number: int) -> None:
        self.counts[what] = self.counts.get(what, 0) + number


class ScaleDataExists(Exception):
    pass


def _evening(day: date) -> datetime:
    return datetime.combine(day, time(19, 0), tzinfo=LONDON)


def _chunks(rows: list, size: int) -> Iterable[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class Generator:
    def __init__(self, spec: ScaleSpec, log: Callable[[str], None] = lambda message: None):
        self.spec = spec
        self.log = log
        self.random = random.Random(spec.seed)
        self.result = ScaleResult()
        self.password = make_password(None)  # unusable; computed once, not 50,000 times
        self.email_serial = 0

    # -- organisations -----------------------------------------------------------

    def _org(
        self, slug: str, name: str, kind: str, parent: Organisation | None = None, governs: Organisation | None = None
    ) -> Organisation:
        organisation = Organisation.objects.create(
            slug=f"{self.spec.prefix}-{slug}", name=name, kind=kind, parent=parent, governs=governs
        )
        self.result.add("organisations", 1)
        return organisation

    def trust(self, index: int, academies: int) -> dict:
        name = "Scale Academy Trust" if index == 0 else f"Scale Partner Trust {index}"
        trust = self._org(f"trust-{index}", name, "trust")
        board = self._org(f"trust-{index}-board", f"{name} Board", "board", parent=trust, governs=trust)
        schools, boards = [], []
        for number in range(1, academies + 1):
            school_name = f"Scale Academy {number:02d}" if index == 0 else f"Partner {index} Academy {number:02d}"
            school = self._org(f"trust-{index}-academy-{number:02d}", school_name, "school", parent=trust)
            schools.append(school)
            boards.append(
                self._org(
                    f"trust-{index}-academy-{number:02d}-lgb",
                    f"{school.name} Local Governing Board",
                    "board",
                    parent=board,
                    governs=school,
                )
            )
        return {"trust": trust, "board": board, "schools": schools, "lgbs": boards}

    # -- people and roles --------------------------------------------------------

    def _name(self) -> str:
        return f"{self.random.choice(FIRST_NAMES)} {self.random.choice(LAST_NAMES)}"

    def people(self, count: int, domain: str) -> list[Person]:
        rows = []
        for _ in range(count):
            self.email_serial += 1
            rows.append(
                Person(email=f"p{self.email_serial:06d}@{domain}", full_name=self._name(), password=self.password)
            )
        created = []
        for chunk in _chunks(rows, self.spec.chunk):
            created.extend(Person.objects.bulk_create(chunk))
        self.result.add("people", count)
        return created

    def _staff_kind(self) -> str:
        roll, total = self.random.uniform(0, 100), 0
        for kind, weight in STAFF_KINDS:
            total += weight
            if roll <= total:
                return kind
        return RoleKind.EMPLOYEE

    def staff_roles(self, people: list[Person], places: list[Organisation], central: Organisation) -> list[Role]:
        """Most staff work in an academy, a few centrally; about 3% have left and 2% joined this term."""
        today = self.spec.today
        roles = []
        for index, person in enumerate(people):
            place = central if index % 50 == 0 else places[index % len(places)]
            starts_on = date(self.random.randint(2008, 2024), 9, 1)
            ends_on = None
            roll = self.random.random()
            if roll < 0.03:
                ends_on = today - timedelta(days=self.random.randint(10, 500))
                ends_on = max(ends_on, starts_on)
            elif roll < 0.05:
                starts_on = today - timedelta(days=self.random.randint(1, 60))
            roles.append(
                Role(
                    person=person,
                    organisation=place,
                    kind=self._staff_kind(),
                    title=self.random.choice(TITLES),
                    starts_on=starts_on,
                    ends_on=ends_on,
                )
            )
        return self._bulk(Role, roles, "roles")

    def governance_roles(self, people: list[Person], tree: dict) -> tuple[list[Role], dict[int, Person]]:
        """Trustees on the trust board and governors on each local board (each with a chair); the trust's members."""
        roles, chairs = [], {}
        queue = iter(people)
        per_board = self.spec.governors_per_board
        for board, kind in [(tree["board"], RoleKind.TRUSTEE)] + [
            (lgb, RoleKind.LOCAL_GOVERNOR) for lgb in tree["lgbs"]
        ]:
            for seat in range(per_board):
                person = next(queue)
                roles.append(
                    Role(
                        person=person,
                        organisation=board,
                        kind=kind,
                        starts_on=date(self.random.randint(2018, 2024), 9, 1),
                        category=self.random.choice(["appointed", "parent", "staff", "co_opted", "foundation"]),
                        appointed_by="Members of the trust" if kind == RoleKind.TRUSTEE else "The trust board",
                        term_ends_on=date(2028, 8, 31),
                    )
                )
                if seat == 0:
                    roles.append(
                        Role(person=person, organisation=board, kind=RoleKind.CHAIR, starts_on=date(2017, 9, 1))
                    )
                    chairs[board.pk] = person
        for _ in range(5):
            roles.append(
                Role(
                    person=next(queue),
                    organisation=tree["trust"],
                    kind=RoleKind.MEMBER,
                    starts_on=date(2016, 4, 1),
                    category="member",
                )
            )
        return self._bulk(Role, roles, "roles"), chairs

    def _bulk(self, model, rows: list, what: str) -> list:
        created = []
        for chunk in _chunks(rows, self.spec.chunk):
            created.extend(model.objects.bulk_create(chunk))
        self.result.add(what, len(rows))
        return created

    # -- codes, versions, adoptions ----------------------------------------------

    def code(
        self, slug: str, owner: Organisation, title: str, audience: list[str], file: str, labels: list[str]
    ) -> list[CodeVersion]:
        content = read_code_file(file)
        code = Code.objects.create(
            slug=f"{self.spec.prefix}-{slug}", owner=owner, title=title, audience=audience, signing_due_days=30
        )
        self.result.add("codes", 1)
        return [version_create_from_content(code=code, label=label, sections=content["sections"]) for label in labels]

    def adopt(self, version: CodeVersion, board: Organisation, chair: Person, held_on: date) -> None:
        meeting = Meeting.objects.create(
            board=board,
            held_on=held_on,
            title="Autumn term board meeting",
            minutes_reference=f"{board.slug}-{held_on:%Y-%m}",
        )
        adoption_record(
            request=AdoptionRequest(
                version=version,
                board=board,
                meeting=meeting,
                chair=chair,
                chair_signature=chair.full_name,
                effective_on=held_on,
                includes_sub_organisations=True,
            ),
            recorded_by=chair,
            recorded_at=_evening(held_on),
            today=self.spec.today,
        )
        self.result.add("adoptions", 1)

    # -- signatures ---------------------------------------------------------------

    def sign(self, version: CodeVersion, share: float, until: date, limit: int | None = None) -> list[int]:
        """Sign ``share`` of the version's open obligations (at most ``limit``) at times between owed and ``until``."""
        obligations = list(
            Obligation.objects.filter(version=version, acknowledged_at__isnull=True, superseded_at__isnull=True)
            .select_related("role", "person", "organisation")
            .order_by("pk")
        )
        count = min(int(len(obligations) * share), len(obligations) if limit is None else limit)
        chosen = sorted(self.random.sample(obligations, count), key=lambda o: o.pk)
        statement = STATEMENT.format(code=version.code.title, version=version.label)
        acks, events = [], []
        for obligation in chosen:
            latest = max(obligation.owed_from, min(until, obligation.due_on + timedelta(days=20)))
            day = obligation.owed_from + timedelta(days=self.random.randint(0, (latest - obligation.owed_from).days))
            signed_at = datetime.combine(
                day, time(self.random.randint(7, 21), self.random.randint(0, 59)), tzinfo=LONDON
            )
            signed_at = min(signed_at, timezone.now())
            role = obligation.role
            record = {
                "person_id": obligation.person_id,
                "version_id": version.pk,
                "content_hash": version.content_hash,
                "typed_name": obligation.person.full_name,
                "signed_at": signed_at,
                "statement": statement,
                "role": role.kind,
            }
            acks.append(
                Acknowledgement(
                    person_id=obligation.person_id,
                    version=version,
                    obligation=obligation,
                    organisation_id=obligation.organisation_id,
                    roles=[
                        {
                            "role_id": role.pk,
                            "kind": role.kind,
                            "label": role_label(role.kind),
                            "title": role.title,
                            "organisation_id": obligation.organisation_id,
                            "organisation": obligation.organisation.name,
                        }
                    ],
                    content_hash=version.content_hash,
                    statement=statement,
                    typed_name=obligation.person.full_name,
                    signed_at=signed_at,
                    ip_address=(
                        f"10.{self.random.randint(0, 255)}.{self.random.randint(0, 255)}.{self.random.randint(1, 254)}"
                    ),
                    user_agent="Mozilla/5.0 (scale data)",
                    auth_method=AuthMethod.PASSWORD,
                    verification_code=new_verification_code(),
                    evidence_hash=sha256_hex(canonical_json(record)),
                )
            )
        created = self._bulk(Acknowledgement, acks, "acknowledgements")
        for ack in created:
            events.append(
                AuditEvent(
                    person_id=ack.person_id,
                    version=version,
                    acknowledgement=None,
                    kind=EventKind.FIRST_VIEWED,
                    occurred_at=ack.signed_at - timedelta(minutes=self.random.randint(2, 90)),
                )
            )
            events.append(
                AuditEvent(
                    person_id=ack.person_id,
                    version=version,
                    acknowledgement=ack,
                    kind=EventKind.SIGNED,
                    occurred_at=ack.signed_at,
                    ip_address=ack.ip_address,
                    user_agent=ack.user_agent,
                )
            )
        self._bulk(AuditEvent, events, "audit events")
        for obligation, ack in zip(chosen, created, strict=True):
            obligation.acknowledged_at = ack.signed_at
        for chunk in _chunks(chosen, 1000):
            Obligation.objects.bulk_update(chunk, ["acknowledged_at"])
        # Fresh statistics midway, so the rest of the load (and later the benchmark) is planned as on a live database.
        analyse("acknowledgements_obligation", "acknowledgements_acknowledgement", "conduct_role")
        return [ack.pk for ack in created]

    # -- stored PDFs -------------------------------------------------------------

    def pdfs(self, academy: Organisation, version: CodeVersion) -> int:

        wanted = self.spec.pdfs
        if not wanted:
            return 0
        html = (
            "<html lang='en-GB'><body><h1>Signed acknowledgement</h1>"
            "<p>Scale data: one sealed PDF reused.</p></body></html>"
        )
        base = seal_pdf(
            render_pdf(html, title="Acknowledgement", author=settings.SITE_NAME, subject="Scale data"),
            reason="Scale data",
        )
        acks = list(
            Acknowledgement.objects.filter(version=version, organisation=academy, pdf__isnull=True).order_by("pk")[
                :wanted
            ]
        )
        rows = []
        for ack in acks:
            # An incremental-update comment after %%EOF: still the same readable PDF, but its own bytes and hash.
            content = base + f"\n% scale data copy for acknowledgement {ack.pk}\n".encode()
            digest = sha256_hex(content)
            name = default_storage.save(f"sealed/scale/{digest}.pdf", ContentFile(content))
            rows.append(
                SealedPdf(acknowledgement=ack, file=name, sha256=digest, size=len(content), created_at=ack.signed_at)
            )
        self._bulk(SealedPdf, rows, "stored PDFs")
        return len(rows)

    # -- the whole set -----------------------------------------------------------

    def run(self) -> ScaleResult:
        spec = self.spec
        if Organisation.objects.filter(slug__startswith=f"{spec.prefix}-").exists():
            raise ScaleDataExists(
                f"Scale data with the prefix '{spec.prefix}' already exists; choose another --prefix."
            )
        today = spec.today
        years = (
            [today.year - 2, today.year - 1, today.year]
            if today >= date(today.year, 9, 17)
            else [today.year - 3, today.year - 2, today.year - 1]
        )
        with transaction.atomic():
            big = self.trust(0, spec.academies)
            smalls = [self.trust(index, spec.small_trust_academies) for index in range(1, spec.small_trusts + 1)]
            network = self._org("network", "Scale Schools Network", "network")
            network_board = self._org(
                "network-board", "Scale Schools Network Board", "board", parent=network, governs=network
            )
            hubs = [self._org(f"network-hub-{n}", f"Scale Network Hub {n}", "hub", parent=network) for n in (1, 2)]
            self.log("organisations created")

            governance_count = spec.governors_per_board * (1 + spec.academies) + 5
            people = self.people(max(spec.people - governance_count, 1), f"{spec.prefix}.example")
            governors = self.people(governance_count, f"{spec.prefix}-gov.example")
            staff = self.staff_roles(people, big["schools"], big["trust"])
            _, chairs = self.governance_roles(governors, big)
            self.log(f"{len(people) + len(governors):,} people in the trust")

            members = big["schools"][: max(1, spec.academies // 4)]
            for tree in smalls:
                small_people = self.people(spec.small_trust_people, f"{tree['trust'].slug}.example")
                staff += self.staff_roles(small_people, tree["schools"], tree["trust"])
                members += tree["schools"]
            NetworkMembership.objects.bulk_create(
                NetworkMembership(network=hubs[index % 2], school=school, joined_on=date(2022, 9, 1))
                for index, school in enumerate(members)
            )
            member_ids = {school.pk for school in members}
            at_members = [role for role in staff if role.organisation_id in member_ids and role.ends_on is None]
            participants = self.random.sample(
                at_members, max(1, int(len(at_members) * spec.network_share)) if at_members else 0
            )
            network_roles = [
                Role(
                    person_id=role.person_id,
                    organisation=hubs[index % 2],
                    kind=NETWORK_KINDS[index % len(NETWORK_KINDS)],
                    starts_on=date(2025, 9, 1),
                )
                for index, role in enumerate(participants)
            ]
            loners = self.people(
                max(1, len(participants) // 10), f"{spec.prefix}-network.example"
            )  # take part with no member-school role
            network_roles += [
                Role(person=person, organisation=hubs[0], kind=RoleKind.REVIEWER, starts_on=date(2025, 9, 1))
                for person in loners
            ]
            network_chair = self.people(1, f"{spec.prefix}-network.example")[0]
            network_roles.append(
                Role(person=network_chair, organisation=network_board, kind=RoleKind.CHAIR, starts_on=date(2020, 9, 1))
            )
            self._bulk(Role, network_roles, "roles")
            self.log(
                f"network of {len(members)} member schools from {1 + len(smalls)} trusts, "
                f"{len(participants) + len(loners)} participants"
            )

            labels = [version_label(year) for year in years]
            staff_versions = self.code(
                "staff-code",
                big["trust"],
                "Scale Trust Staff Code of Conduct",
                ["employee", "agency_worker", "contractor", "volunteer"],
                "trust-staff-code-of-conduct.json",
                labels,
            )
            governance_versions = self.code(
                "governance-code",
                big["trust"],
                "Scale Trust Governance Code",
                ["member", "trustee", "local_governor"],
                "leading-learners-governance-code.json",
                labels[-2:],
            )
            network_versions = self.code(
                "network-code",
                network,
                "Scale Network Code of Conduct",
                list(dict.fromkeys(NETWORK_KINDS)),
                "challenge-partners-code-of-conduct.json",
                labels[-2:],
            )

            plan = []  # (version, board, chair, adopted on, sign until)
            for index, version in enumerate(staff_versions):
                held_on = date(years[index], 9, 17)
                until = date(years[index + 1], 9, 16) if index + 1 < len(years) else today
                plan.append((version, big["board"], chairs[big["board"].pk], held_on, until))
            for index, version in enumerate(governance_versions):
                held_on = date(years[index + 1], 9, 24)
                until = date(years[index + 2], 9, 23) if index + 2 < len(years) else today
                plan.append((version, big["board"], chairs[big["board"].pk], held_on, until))
            for index, version in enumerate(network_versions):
                held_on = date(years[index + 1], 9, 10)
                until = date(years[index + 2], 9, 9) if index + 2 < len(years) else today
                plan.append((version, network_board, network_chair, held_on, until))
            plan.sort(key=lambda step: step[3])
            current = {versions[-1].pk for versions in (staff_versions, governance_versions, network_versions)}
            current_share: float | None = None
            for version, board, chair, held_on, until in plan:
                self.adopt(version, board, chair, held_on)
                share = spec.history_share
                if version.pk in current:
                    if current_share is None:
                        # Past years were signed by nearly everyone; this year's round shares out what is left.
                        remaining = spec.acknowledgements - self.result.counts.get("acknowledgements", 0)
                        capacity = self._expected_obligations([step for step in plan if step[0].pk in current])
                        current_share = min(spec.history_share, remaining / capacity) if capacity else 0
                    share = current_share
                self.sign(
                    version, share, until, limit=spec.acknowledgements - self.result.counts.get("acknowledgements", 0)
                )
                self.log(f"{version}: adopted {held_on}, signatures up to {until}")
            self._top_up(plan)

            academy, pdf_version = self._pdf_home(big["schools"], staff_versions)
            self.pdfs(academy, pdf_version)
            admin = Person.objects.create_user(
                email=f"admin@{spec.prefix}.example", full_name="Scale Trust Admin", password="conduct-demo-2025"
            )
            Role.objects.create(
                person=admin, organisation=big["trust"], kind=RoleKind.ADMIN, starts_on=date(2020, 1, 1)
            )
            EmailAddress.objects.create(
                user=admin, email=admin.email, verified=True, primary=True
            )  # can sign in at once
        analyse()
        self.result.trust, self.result.pdf_academy, self.result.admin = big["trust"], academy, admin
        return self.result

    def _pdf_home(self, schools: list[Organisation], versions: list[CodeVersion]) -> tuple[Organisation, CodeVersion]:
        """The academy and staff version for the stored PDFs: this year's if one academy has enough
        signatures, else the latest year that has (an archive of last year's round is a usual audit request)."""
        best = None
        for version in reversed(versions):
            counts = dict(
                Acknowledgement.objects.filter(version=version, organisation__in=schools)
                .values_list("organisation")
                .annotate(n=Count("pk"))
                .values_list("organisation", "n")
            )
            if not counts:
                continue
            academy_id = max(counts, key=counts.__getitem__)
            if best is None or counts[academy_id] > best[2]:
                best = (academy_id, version, counts[academy_id])
            if counts[academy_id] >= self.spec.pdfs:
                break
        if best is None:
            return schools[0], versions[-1]
        return next(school for school in schools if school.pk == best[0]), best[1]

    def _expected_obligations(self, plan) -> int:
        """Roughly how many obligations the plan opens (for choosing the share that signs)."""
        staff = Role.objects.filter(
            organisation__slug__startswith=f"{self.spec.prefix}-trust-0",
            kind__in=["employee", "agency_worker", "contractor", "volunteer"],
        ).count()
        governance = Role.objects.filter(
            organisation__slug__startswith=f"{self.spec.prefix}-trust-0",
            kind__in=["member", "trustee", "local_governor"],
        ).count()
        network = Role.objects.filter(
            organisation__slug__startswith=f"{self.spec.prefix}-network", kind__in=NETWORK_KINDS
        ).count()
        per_code = {"staff-code": staff, "governance-code": governance, "network-code": network}
        return sum(per_code[version.code.slug.removeprefix(f"{self.spec.prefix}-")] for version, *_ in plan)

    def _top_up(self, plan) -> None:
        """Sign more of the current versions until the requested number of acknowledgements exists."""
        missing = self.spec.acknowledgements - self.result.counts.get("acknowledgements", 0)
        open_obligations = Obligation.objects.filter(acknowledged_at__isnull=True, superseded_at__isnull=True)
        largest_first = sorted(plan, key=lambda step: -open_obligations.filter(version=step[0]).count())
        for version, _board, _chair, _held_on, until in largest_first:
            if missing <= 0:
                return
            open_count = Obligation.objects.filter(
                version=version, acknowledged_at__isnull=True, superseded_at__isnull=True
            ).count()
            if open_count:
                before = self.result.counts.get("acknowledgements", 0)
                self.sign(version, 1.0, until, limit=missing)
                missing -= self.result.counts["acknowledgements"] - before


def generate(spec: ScaleSpec, log: Callable[[str], None] = lambda message: None) -> ScaleResult:
    return Generator(spec, log).run()
