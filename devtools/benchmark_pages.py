"""Pages, the sign POST and concurrent signing, measured under gunicorn with the production settings.

For each database given (data from ``manage.py generate_scale_data``), the benchmark

1. picks the subjects: the trust's admin; readers who signed last year's staff code and owe this year's (so the
   reading page shows "what changed"); people who owe it, to sign;
2. signs them in (sessions in the database, as a browser's would be) and, in this process, counts each page's
   queries through the Django test client (the second request of each: caches warm, first view recorded);
3. starts one gunicorn per database (``config/gunicorn.py``, ``devtools.benchmark_settings``: the production
   settings with DEBUG off, plus the floor view) on the benchmark's port and the next ones, warms every page,
   then times rounds of requests in which every page and the floor of every database are requested once, in one
   shuffled order (interleaved across pages and sizes, so a slow minute of the shared machine touches all of
   them alike): medians, 95th percentiles, and each page's median over its floor's;
4. times one sign POST at a time (latency, queries, and the workers' CPU per signature from /proc), then
   restarts gunicorn with 4 workers and has 200 signers sign at once: errors, records made (exactly one each),
   signatures per second and the latency of the POSTs.

Sign-ins and signatures change the database: the signers' obligations are signed for good (a later run picks
others), and the trust's register is published (the public governance page needs it).
"""

from __future__ import annotations

import html
import http.client
import os
import random
import re
import secrets
import signal
import statistics
import string
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import dj_database_url
from django.conf import settings
from django.core.management.base import OutputWrapper
from django.db import connections
from django.db.models import Count, Exists, OuterRef
from django.test import Client
from django.test.utils import override_settings
from django.urls import NoReverseMatch, reverse

from acknowledgements.models import Acknowledgement, Obligation
from conduct.models import Code, CodeVersion, Organisation, Person
from devtools.benchmark_urls import FLOOR_PATH
from devtools.benchmarking import captured

START, END = "<!-- pages-benchmark:start -->", "<!-- pages-benchmark:end -->"
SCALING_START, SCALING_END = "<!-- scaling-measurement:start -->", "<!-- scaling-measurement:end -->"
BASE_DIR = Path(settings.BASE_DIR)
# Signatures made before the one-at-a-time ones are timed: two for each of the server's two workers.
SIGN_WARM_UP = 4
CSRF = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


@dataclass
class Page:
    key: str
    name: str
    path: str
    target_ms: float | None = 150  # the 95th percentile's target
    sessions: list[str] = field(default_factory=list)  # cookie values, rotated; none: anonymous
    queries: int | None = None
    times: list[float] = field(default_factory=list)  # milliseconds

    def session(self, index: int) -> str | None:
        return self.sessions[index % len(self.sessions)] if self.sessions else None


@dataclass
class SizeResult:
    label: str
    people: int
    acknowledgements: int
    pages: list[Page]
    sign: dict[str, float] = field(default_factory=dict)
    concurrent: dict[str, float] = field(default_factory=dict)
    exports: dict[str, float] = field(default_factory=dict)

    def page(self, key: str) -> Page:
        return next(page for page in self.pages if page.key == key)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


# ---------------------------------------------------------------------------
# The database and the subjects
# ---------------------------------------------------------------------------


def use_database(url: str) -> None:
    """Point this process's default connection at ``url`` (the next query reconnects)."""
    connection = connections["default"]
    connection.close()
    parsed = dj_database_url.parse(url)
    for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
        connection.settings_dict[key] = parsed.get(key, "") or ""


def session_cookie(person: Person) -> str:
    client = Client()
    client.force_login(person)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@dataclass
class Subjects:
    trust: Organisation
    admin: Person
    code: Code
    version: CodeVersion
    readers: list[Person]
    signers: list[Person]


def subjects(prefix: str, readers: int, signers: int) -> Subjects:
    trust = Organisation.objects.get(slug=f"{prefix}-trust-0")
    admin = Person.objects.get(email=f"admin@{prefix}.example")
    code = Code.objects.get(slug=f"{prefix}-staff-code")
    version = code.versions.exclude(status="draft").order_by("-created_at").first()
    if version is None:
        raise RuntimeError(f"{code.slug} has no adopted version.")
    owing = Obligation.objects.filter(
        version=version, acknowledged_at__isnull=True, superseded_at__isnull=True, role__ends_on__isnull=True
    )
    signed_before = Acknowledgement.objects.filter(person=OuterRef("person"), version__code=code).exclude(
        version=version
    )
    reader_ids = list(
        owing.filter(Exists(signed_before)).order_by("person_id").values_list("person_id", flat=True)[:readers]
    )
    signer_ids = list(
        owing.exclude(person_id__in=reader_ids).order_by("-person_id").values_list("person_id", flat=True)[:signers]
    )
    if len(reader_ids) < readers or len(signer_ids) < signers:
        raise RuntimeError(
            f"Not enough people owing {version} ({len(reader_ids)} readers, {len(signer_ids)} signers): "
            "generate fresh scale data."
        )
    by_id = Person.objects.in_bulk(reader_ids + signer_ids)
    return Subjects(
        trust=trust,
        admin=admin,
        code=code,
        version=version,
        readers=[by_id[pk] for pk in reader_ids],
        signers=[by_id[pk] for pk in signer_ids],
    )


def pages_for(found: Subjects) -> list[Page]:
    trust, code, version = found.trust, found.code, found.version
    report = {"organisation": trust.pk, "code": code.pk, "version": version.pk}
    overdue = f"{reverse('reports:people')}?{urlencode({**report, 'status': 'overdue'})}"
    pages = [
        Page("floor", "Floor: a plain response behind the same middleware", "/" + FLOOR_PATH, target_ms=None),
        Page("reading", "Reading/signing page (what changed since last year)", version.get_absolute_url(), 30),
        Page("dashboard", "Whole-trust dashboard", f"{reverse('reports:dashboard')}?{urlencode(report)}"),
        Page("overdue", "Overdue drill-down, first page", overdue),
        Page(
            "overdue_deep",
            "Overdue drill-down, page 20 by its Next links",
            reached_by_next_links(overdue, found.admin, clicks=19),
        ),
        Page(
            "overdue_number",
            "Overdue drill-down, page 20 by its number",
            f"{reverse('reports:people')}?{urlencode({**report, 'status': 'overdue', 'page': 20})}",
        ),
        Page("history", "Code history", reverse("conduct:code_history", args=[code.slug])),
        Page("register", "Register of governors", f"{reverse('reports:register')}?organisation={trust.pk}"),
        Page("governance", "Public governance page", reverse("public_governance", args=[trust.slug])),
    ]
    deep = {page.key: page.path for page in pages}
    same_rows(deep["overdue_deep"], deep["overdue_number"], found.admin)
    with suppress(NoReverseMatch):
        pages.append(Page("people", "People directory", reverse("people:directory")))
    return pages


# ---------------------------------------------------------------------------
# gunicorn
# ---------------------------------------------------------------------------


def production_environment(database_url: str, port: int, workers: int, threads: int) -> dict[str, str]:
    """The environment a production web server would have, pointed at this database and port."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GUNICORN_", "DJANGO_"))}
    evidence_key = Path(settings.EVIDENCE_DIR) / "signing.key" if hasattr(settings, "EVIDENCE_DIR") else None
    env.update(
        DJANGO_SETTINGS_MODULE="devtools.benchmark_settings",
        DEBUG="0",
        SECRET_KEY=settings.SECRET_KEY,  # the sessions made here must be readable there
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=f"http://127.0.0.1:{port}",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT="2525",
        SECURE_SSL_REDIRECT="0",  # plain HTTP on the loopback
        SECURE_HSTS_SECONDS="0",
        CELERY_BROKER_URL=os.environ.get("BENCHMARK_BROKER_URL", "redis://127.0.0.1:6379/3"),
        LOG_LEVEL="WARNING",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
        GUNICORN_THREADS=str(threads),
        GUNICORN_ACCESS_LOG="",
        GUNICORN_MAX_REQUESTS="0",  # no recycling in the middle of a measurement
    )
    seal = Path(settings.SEAL_DIR)
    env.setdefault("SEAL_KEY_FILE", str(seal / "seal.key"))
    env.setdefault("SEAL_CERT_FILE", str(seal / "seal.crt"))
    if evidence_key is not None and evidence_key.exists():
        env.setdefault("EVIDENCE_KEY_FILE", str(evidence_key))
    return env


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, database_url: str, port: int, *, workers: int, threads: int):
        self.port = port
        self.env = production_environment(database_url, port, workers, threads)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        try:
            return self._start()
        except BaseException:
            self.__exit__()
            raise

    def _start(self) -> Server:
        # As a deployment does before starting the web server (README): the hashed names of the static files.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=BASE_DIR, env=self.env, check=True
        )
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", str(BASE_DIR / "config" / "gunicorn.py"), "config.wsgi"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(BASE_DIR / "var" / "benchmark-gunicorn.log", "ab"),  # noqa: SIM115 - the server's life
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:  # e.g. the port is taken
                raise RuntimeError("gunicorn stopped at start-up: see var/benchmark-gunicorn.log")
            try:
                status, _body = request(self.port, "GET", "/" + FLOOR_PATH)
                if status == 200:
                    return self
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.5)
        raise RuntimeError("gunicorn did not answer within 90 s: see var/benchmark-gunicorn.log")

    def workers_cpu(self) -> float:
        assert self.process is not None
        return sum(_cpu_seconds(pid) for pid in _children(self.process.pid))

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_local = threading.local()


def _connection(port: int) -> http.client.HTTPConnection:
    conn = getattr(_local, "conn", None)
    if conn is None or getattr(_local, "port", None) != port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        _local.conn, _local.port = conn, port
    return conn


def request(
    port: int, method: str, path: str, *, session: str | None = None, body: dict | None = None
) -> tuple[int, bytes]:
    """One request over this thread's keep-alive connection; the whole body is read."""
    headers = {"Host": "127.0.0.1", "Cookie": f"csrftoken={CSRF}"}
    if session:
        headers["Cookie"] += f"; {settings.SESSION_COOKIE_NAME}={session}"
    data = None
    if body is not None:
        data = urlencode({**body, "csrfmiddlewaretoken": CSRF}).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    for attempt in (1, 2):
        conn = _connection(port)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            content = response.read()
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                _local.conn = None
            return response.status, content
        except (http.client.HTTPException, OSError):  # a dropped keep-alive connection: once more on a new one
            conn.close()
            _local.conn = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------


IN_PROCESS = override_settings(ALLOWED_HOSTS=["testserver"], ROOT_URLCONF="devtools.benchmark_urls")


NEXT_LINK = re.compile(r'<a class="page-link" href="\?([^"]*)">Next</a>')
BOXES = re.compile(r'name="obligations" value="(\d+)"')


@IN_PROCESS
def reached_by_next_links(path: str, person: Person, *, clicks: int) -> str:
    """The address ``person`` reaches from ``path`` by following its pages' Next links ``clicks`` times, the way a
    user gets to a deep page (the drill-down's links carry the previous page's last row, not an OFFSET)."""
    client = Client()
    client.force_login(person)
    base = path.split("?", 1)[0]
    for click in range(clicks):
        response = client.get(path)
        found = NEXT_LINK.search(response.content.decode()) if response.status_code == 200 else None
        if found is None:
            raise RuntimeError(f"{path} ({response.status_code}) has no Next link after {click} clicks.")
        path = f"{base}?{html.unescape(found.group(1))}"
    return path


@IN_PROCESS
def same_rows(path: str, other: str, person: Person) -> None:
    """Both addresses list the same drill-down rows (the obligations' boxes), or the benchmark stops."""
    client = Client()
    client.force_login(person)
    rows = [BOXES.findall(client.get(address).content.decode()) for address in (path, other)]
    if not rows[0] or rows[0] != rows[1]:
        raise RuntimeError(f"{path} and {other} do not list the same rows.")


@IN_PROCESS
def count_queries(pages: list[Page], people: dict[str, Person | None]) -> None:
    """Each page's queries in this process (same code, same database), on the second request of each."""
    clients: dict[str, Client] = {}
    for page in pages:
        person = people.get(page.key)
        client = clients.get(page.key)
        if client is None:
            client = clients[page.key] = Client()
            if person is not None:
                client.force_login(person)
        client.get(page.path)
        with captured() as queries:
            response = client.get(page.path)
        if response.status_code != 200:
            raise RuntimeError(f"{page.name} answered {response.status_code} in the test client.")
        page.queries = len(queries)


def interleaved(runs: list[tuple[Server, list[Page]]], rounds: int, stdout) -> None:
    """Every page of every size once a round, in one shuffled order across the sizes (each size on its own server):
    a slow minute of the shared machine then touches both sizes alike, so the growth compares like with like."""
    for server, pages in runs:
        for page in pages:  # warm-up: connections, templates, caches, and each reader's first view
            for index in range(max(3, len(page.sessions))):
                status, _ = request(server.port, "GET", page.path, session=page.session(index))
                if status != 200:
                    raise RuntimeError(f"{page.name} answered {status} under gunicorn.")
    order = [(server, page) for server, pages in runs for page in pages]
    shuffle = random.Random(2026)
    for number in range(rounds):
        shuffle.shuffle(order)
        for server, page in order:
            started = time.perf_counter()
            status, _ = request(server.port, "GET", page.path, session=page.session(number))
            elapsed = (time.perf_counter() - started) * 1000
            if status != 200:
                raise RuntimeError(f"{page.name} answered {status} under gunicorn.")
            page.times.append(elapsed)
        if (number + 1) % 20 == 0:
            stdout.write(f"    {number + 1} rounds")


def sign_path(version: CodeVersion) -> str:
    return reverse("acknowledgements:sign", args=[version.code.slug, version.pk])


def sequential_signs(
    server: Server, found: Subjects, people: list[Person], sessions: dict[int, str], *, warm_up: list[Person]
) -> dict:
    """One signer at a time: latency of the POST and the workers' CPU per signature, in the steady state: the
    ``warm_up`` people sign first, untimed, so that no worker's first signature (its first use of the signing
    path, whose first Celery publish alone took 147 ms) is counted among the timed ones."""
    path = sign_path(found.version)
    for person in warm_up + people:  # they read it first, as a signer does (the first view is recorded)
        request(server.port, "GET", found.version.get_absolute_url(), session=sessions[person.pk])

    def sign(person: Person) -> None:
        status, _ = request(
            server.port, "POST", path, session=sessions[person.pk], body={"agree": "on", "typed_name": person.full_name}
        )
        if status != 302:
            raise RuntimeError(f"A sign POST answered {status}.")

    for person in warm_up:
        sign(person)
    cpu_before = server.workers_cpu()
    times = []
    for person in people:
        started = time.perf_counter()
        sign(person)
        times.append((time.perf_counter() - started) * 1000)
    cpu = (server.workers_cpu() - cpu_before) / len(people) * 1000
    return {"median_ms": statistics.median(times), "p95_ms": percentile(times, 0.95), "cpu_ms": cpu}


@IN_PROCESS
def sign_queries(found: Subjects, person: Person) -> int:
    client = Client()
    client.force_login(person)
    client.get(found.version.get_absolute_url())
    with captured() as queries:
        response = client.post(sign_path(found.version), {"agree": "on", "typed_name": person.full_name})
    if response.status_code != 302:
        raise RuntimeError(f"The sign POST answered {response.status_code} in the test client.")
    # Django's capture lists the transaction's BEGIN and COMMIT too; the target counts the statements.
    return sum(query["sql"].strip().upper() not in {"BEGIN", "COMMIT"} for query in queries.captured_queries)


def concurrent_signs(server: Server, found: Subjects, people: list[Person], sessions: dict[int, str]) -> dict:
    """Everyone reads the page, then all sign at the same moment."""
    path, page = sign_path(found.version), found.version.get_absolute_url()
    ready, go = threading.Barrier(len(people) + 1), threading.Event()
    results: dict[int, tuple[int, float, float]] = {}
    errors: list[str] = []

    def signer(person: Person) -> None:
        try:
            request(server.port, "GET", page, session=sessions[person.pk])
        except OSError as error:
            errors.append(f"read: {error}")
        ready.wait()
        go.wait()
        started = time.perf_counter()
        try:
            status, _ = request(
                server.port,
                "POST",
                path,
                session=sessions[person.pk],
                body={"agree": "on", "typed_name": person.full_name},
            )
        except OSError as error:
            errors.append(f"sign: {error}")
            return
        finished = time.perf_counter()
        results[person.pk] = (status, (finished - started) * 1000, finished)

    threads = [threading.Thread(target=signer, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    ready.wait()
    cpu_before = server.workers_cpu()
    started = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join()
    span = max((finished for _s, _t, finished in results.values()), default=started) - started
    cpu = (server.workers_cpu() - cpu_before) / max(1, len(results)) * 1000
    bad = [status for status, _t, _f in results.values() if status != 302]
    made = dict(
        Acknowledgement.objects.filter(person__in=people, version=found.version)
        .values_list("person")
        .annotate(n=Count("pk"))
        .values_list("person", "n")
    )
    times = [elapsed for _s, elapsed, _f in results.values()]
    return {
        "signers": len(people),
        "errors": len(errors) + len(bad),
        "exactly_one": sum(1 for person in people if made.get(person.pk) == 1),
        "per_second": len(results) / span if span else float("nan"),
        "median_ms": statistics.median(times) if times else float("nan"),
        "p95_ms": percentile(times, 0.95),
        "cpu_ms": cpu,
    }


@dataclass
class PreparedSize:
    """One database's subjects, pages (queries counted) and signed-in sessions, before anything is timed."""

    url: str
    found: Subjects
    result: SizeResult
    single: Person
    warm_up: list[Person]
    sequential: list[Person]
    crowd: list[Person]
    sessions: dict[int, str]


def prepare_size(
    label: str, database_url: str, *, prefix: str, readers: int, signers: int, concurrent: int, stdout
) -> PreparedSize:
    use_database(database_url)
    stdout.write(f"== {label}: {database_url.rsplit('/', 1)[-1]}")
    try:
        found = subjects(prefix, readers, 1 + SIGN_WARM_UP + signers + concurrent)
    except RuntimeError as error:
        raise RuntimeError(f"{label}: {error}") from error
    Organisation.objects.filter(pk=found.trust.pk).update(publish_register=True)
    pages = pages_for(found)
    admin_session = session_cookie(found.admin)
    reader_sessions = [session_cookie(person) for person in found.readers]
    for page in pages:
        if page.key == "reading":
            page.sessions = reader_sessions
        elif page.key != "governance":  # the floor too: signed in, as every other page's visitor (same middleware)
            page.sessions = [admin_session]
    people: dict[str, Person | None] = {
        page.key: (found.readers[0] if page.key == "reading" else None if page.key == "governance" else found.admin)
        for page in pages
    }
    stdout.write("  counting queries")
    count_queries(pages, people)
    sign_people = found.signers
    single, warm_up = sign_people[0], sign_people[1 : 1 + SIGN_WARM_UP]
    sequential, crowd = (
        sign_people[1 + SIGN_WARM_UP : 1 + SIGN_WARM_UP + signers],
        sign_people[1 + SIGN_WARM_UP + signers :],
    )
    result = SizeResult(
        label=label,
        people=Person.objects.filter(roles__organisation__path__startswith=found.trust.path).distinct().count(),
        acknowledgements=Acknowledgement.objects.filter(organisation__path__startswith=found.trust.path).count(),
        pages=pages,
    )
    sessions = {person.pk: session_cookie(person) for person in warm_up + sequential + crowd}
    return PreparedSize(database_url, found, result, single, warm_up, sequential, crowd, sessions)


def measure_signing(prepared: PreparedSize, port: int, *, concurrent: int, stdout, with_exports: bool) -> None:
    use_database(prepared.url)
    found, result = prepared.found, prepared.result
    stdout.write(f"== {result.label}: one signer at a time")
    with Server(prepared.url, port, workers=2, threads=1) as server:
        result.sign = sequential_signs(server, found, prepared.sequential, prepared.sessions, warm_up=prepared.warm_up)
    result.sign["queries"] = sign_queries(found, prepared.single)
    if with_exports:
        stdout.write("  CSV against COPY, memory, XLSX")
        result.exports = exports(found)
    if concurrent:
        stdout.write(f"  {concurrent} signers at once (4 workers, 2 threads each)")
        with Server(prepared.url, port, workers=4, threads=2) as server:
            result.concurrent = concurrent_signs(server, found, prepared.crowd, prepared.sessions)


def measure_sizes(
    databases: list[tuple[str, str]],
    *,
    prefix: str,
    port: int,
    rounds: int,
    readers: int,
    signers: int,
    concurrent: int,
    stdout,
    with_exports: bool = False,
) -> list[SizeResult]:
    """Prepare every database, time their pages together (one gunicorn per database, on ``port``, ``port`` + 1, …,
    requests interleaved across them), then time signing on each in turn."""
    prepared = [
        prepare_size(label, url, prefix=prefix, readers=readers, signers=signers, concurrent=concurrent, stdout=stdout)
        for label, url in databases
    ]
    stdout.write("== pages of every size, interleaved (a gunicorn per size: 2 workers, 1 thread each)")
    with ExitStack() as stack:
        servers = [
            stack.enter_context(Server(size.url, port + index, workers=2, threads=1))
            for index, size in enumerate(prepared)
        ]
        interleaved(
            [(server, size.result.pages) for server, size in zip(servers, prepared, strict=True)], rounds, stdout
        )
    for size in prepared:
        measure_signing(size, port, concurrent=concurrent, stdout=stdout, with_exports=with_exports)
    return [size.result for size in prepared]


def signing_only(
    label: str, database_url: str, *, port: int = 8310, signers: int = 20, concurrent: int = 200, stdout=None
) -> SizeResult:
    """Only the signing measurements of one database (one signer at a time, then ``concurrent`` at once), without
    the page rounds: ``manage.py shell -c "from devtools.benchmark_pages import signing_only; signing_only(…)"``.
    Prints the signing figures and the load average before and after; returns the size's result."""
    out = stdout or OutputWrapper(sys.stdout)
    load_before = os.getloadavg()[0]
    with restored_database():
        prepared = prepare_size(
            label, database_url, prefix="scale", readers=1, signers=signers, concurrent=concurrent, stdout=out
        )
        measure_signing(prepared, port, concurrent=concurrent, stdout=out, with_exports=False)
    result = prepared.result
    out.write(f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    out.write(f"one at a time: {result.sign}")
    out.write(f"at once: {result.concurrent}")
    return result


def exports(found: Subjects, runs: int = 3) -> dict[str, float]:
    """The people CSV of the whole trust (every code and version) beside PostgreSQL's COPY of the same rows (the
    query the export streams), interleaved, medians; the Python allocations' peak while streaming it (tracemalloc)
    against one academy's; and the XLSX of the same list as the background job builds it."""
    from django.utils import timezone

    from reports.builders import job_run
    from reports.exports import people_csv_chunks, people_table
    from reports.jobs import job_request
    from reports.models import JobKind, ReportJob
    from reports.selectors import ReportFilters, school_map

    def csv_of(organisation: Organisation) -> tuple[int, int]:
        filters = ReportFilters(organisation=organisation, as_at=timezone.localdate())
        schools = school_map(filters)
        size = rows = 0
        for chunk in people_csv_chunks(found.admin, filters, schools):
            size += len(chunk.encode())
            rows += chunk.count("\r\n")
        return rows - 1, size

    filters = ReportFilters(organisation=found.trust, as_at=timezone.localdate())
    # The query the export reads (manage.py benchmark_exports measures the exports in more detail).
    sql, params = people_table(found.admin, filters, school_map(filters)).queryset.query.sql_with_params()

    def copy() -> int:
        size = 0
        with (
            connections["default"].cursor() as cursor,
            cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", params) as stream,
        ):
            for data in stream:
                size += len(data)
        return size

    csv_times, copy_times, rows = [], [], 0
    for _ in range(runs):
        started = time.perf_counter()
        rows, _size = csv_of(found.trust)
        csv_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        copy()
        copy_times.append(time.perf_counter() - started)
    academy = Organisation.objects.filter(parent=found.trust, kind="school").order_by("pk").first()
    assert academy is not None
    peaks = []
    for organisation in (found.trust, academy):
        tracemalloc.start()
        try:
            counted, _size = csv_of(organisation)
            peaks.append((tracemalloc.get_traced_memory()[1] / 1_048_576, counted))
        finally:
            tracemalloc.stop()
    job, _created = job_request(user=found.admin, kind=JobKind.SPREADSHEET, filters=filters, enqueue=False)
    started = time.perf_counter()
    finished = job_run(job.pk)
    xlsx = time.perf_counter() - started
    if finished is None or not finished.file.name:
        raise RuntimeError("The spreadsheet job did not finish.")
    finished.file.storage.delete(finished.file.name)
    ReportJob.objects.filter(pk=finished.pk).delete()
    return {
        "rows": rows,
        "csv_s": statistics.median(csv_times),
        "copy_s": statistics.median(copy_times),
        "peak_mb": peaks[0][0],
        "small_peak_mb": peaks[1][0],
        "small_rows": peaks[1][1],
        "xlsx_s": xlsx,
        "xlsx_rows": finished.summary.get("rows", 0),
    }


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def markdown(
    results: list[SizeResult],
    *,
    command: str,
    when: datetime,
    title: str,
    markers=(START, END),
    growth_target: float = 1.3,
) -> str:
    """The tables; ``growth_target``: the most a page's median may grow from the first database to the last
    (1.3 from 5,000 to 50,000 people; 1.2 from a trust alone to the same trust among others)."""
    first = results[0]
    floor = {result.label: statistics.median(result.page("floor").times) for result in results}
    lines = [
        markers[0],
        f"## {title}",
        "",
        f"Measured {when:%-d %B %Y %H:%M} UTC on PostgreSQL, gunicorn (`config/gunicorn.py`, production settings, "
        f"DEBUG off) on a machine with {os.cpu_count()} CPUs shared with other work (load average "
        f"{os.getloadavg()[0]:.1f} at the end). Reproduce with:",
        "",
        "```sh",
        command,
        "```",
        "",
        "Data: "
        + "; ".join(
            f"**{r.label}**: {r.people:,} people and {r.acknowledgements:,} acknowledgements in the trust"
            for r in results
        )
        + ". Times are milliseconds measured by the client over keep-alive connections, "
        f"{len(first.page('floor').times)} interleaved rounds per size; ratio = the page's median over the floor's; "
        f"growth = the median at the last size over the median at the first (target ≤ {growth_target}).",
        "",
    ]
    header = "| page | target (p95) |"
    rule = "|---|---|"
    for result in results:
        header += f" {result.label}: queries | median | p95 | × floor |"
        rule += "---:|---:|---:|---:|"
    if len(results) > 1:
        header += " growth |"
        rule += "---:|"
    lines += [header, rule]
    for page in first.pages:
        row = f"| {page.name} | {'' if page.target_ms is None else f'≤ {page.target_ms:.0f} ms'} |"
        medians = []
        for result in results:
            found = result.page(page.key)
            median, p95 = statistics.median(found.times), percentile(found.times, 0.95)
            medians.append(median)
            mark = "" if page.target_ms is None else (" ✓" if p95 <= page.target_ms else " ✗")
            ratio = median / floor[result.label]
            row += f" {found.queries} | {_ms(median)} | {_ms(p95)}{mark} | {ratio:.1f} |"
        if len(results) > 1:
            growth = medians[-1] / medians[0]
            row += f" {growth:.2f}{'' if page.key == 'floor' else (' ✓' if growth <= growth_target else ' ✗')} |"
        lines.append(row)
    lines += ["", "Signing (the sign POST, without the reading page):", ""]
    lines += ["| measurement | target | " + " | ".join(r.label for r in results) + " |"]
    lines += ["|---|---|" + "---:|" * len(results)]

    def sign_row(name: str, target: str, render) -> None:
        lines.append(f"| {name} | {target} | " + " | ".join(render(r) for r in results) + " |")

    sign_row("queries of one sign POST", "≤ 12", lambda r: f"{r.sign.get('queries', 0):.0f}")
    sign_row(
        "one signer at a time: median / p95 latency",
        "",
        lambda r: f"{_ms(r.sign['median_ms'])} / {_ms(r.sign['p95_ms'])} ms",
    )
    sign_row("workers' CPU per signature (one at a time)", "≤ 25 ms", lambda r: f"{r.sign['cpu_ms']:.1f} ms")
    if all(r.concurrent for r in results):
        sign_row("signers at once (4 workers × 2 threads)", "200", lambda r: f"{r.concurrent['signers']:.0f}")
        sign_row("errors", "0", lambda r: f"{r.concurrent['errors']:.0f}")
        sign_row("exactly one record each", "all", lambda r: f"{r.concurrent['exactly_one']:.0f}")
        sign_row("signatures per second", "≥ 60", lambda r: f"{r.concurrent['per_second']:.0f}")
        sign_row(
            "POST latency under that load: median / p95",
            "p95 ≤ 5 s",
            lambda r: f"{r.concurrent['median_ms'] / 1000:.2f} / {r.concurrent['p95_ms'] / 1000:.2f} s",
        )
        sign_row("workers' CPU per signature under load", "≤ 25 ms", lambda r: f"{r.concurrent['cpu_ms']:.1f} ms")
    with_exports = [r for r in results if r.exports]
    if with_exports:
        lines += ["", "Exports of the whole trust's people list (every code and version), in this process:", ""]
        lines += ["| measurement | target | " + " | ".join(r.label for r in with_exports) + " |"]
        lines += ["|---|---|" + "---:|" * len(with_exports)]

        def export_row(name: str, target: str, render) -> None:
            lines.append(f"| {name} | {target} | " + " | ".join(render(r.exports) for r in with_exports) + " |")

        export_row("rows", "", lambda e: f"{e['rows']:,.0f}")
        export_row(
            "CSV streamed / COPY of the same rows (medians of 3, interleaved)",
            "≤ 2×",
            lambda e: f"{e['csv_s']:.2f} s / {e['copy_s']:.2f} s = **{e['csv_s'] / e['copy_s']:.1f}×**",
        )
        export_row(
            "peak Python allocations while streaming (whole trust / one academy)",
            "flat",
            lambda e: f"{e['peak_mb']:.1f} MB / {e['small_peak_mb']:.1f} MB ({e['small_rows']:,.0f} rows)",
        )
        export_row(
            "XLSX (openpyxl write-only), as the background job builds it",
            "≤ 10 s",
            lambda e: f"{e['xlsx_s']:.1f} s for {e['xlsx_rows']:,.0f} rows",
        )
    lines += ["", markers[1]]
    return "\n".join(lines)


def write_section(path: Path, section: str, markers=(START, END)) -> None:
    """Replace this benchmark's section in the file (other sections are left as they are)."""
    start, end = markers
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _old, tail = rest.split(end, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


@contextmanager
def restored_database() -> Iterator[None]:
    connection = connections["default"]
    saved = {key: connection.settings_dict.get(key) for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)
