"""`make run`'s launcher, with the real commands: a taken port, the banner, a SIGINT to make alone, the noise.

The SIGINT test runs real GNU make and honcho on a small Procfile (a web process and a worker that takes
longer than honcho's own 5-second wait to stop), so it is quick and checks what `make run` relies on.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from devtools.run import DEMO_LOGINS, DEMO_PASSWORD, port_problem

BASE_DIR = Path(__file__).resolve().parents[2]
PORTS = iter(range(8440, 8450))  # this suite's share of the machine's ports


def taken_port() -> tuple[socket.socket, int]:
    for port in PORTS:
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            holder.bind(("127.0.0.1", port))
        except OSError:
            holder.close()
            continue
        holder.listen(1)
        return holder, port
    pytest.fail("no free port in 8440-8449 for the test")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PORT", "WEB_PORT", "SITE_URL"}}
    env.update(extra)
    return env


def test_a_taken_port_is_named_in_one_line_and_make_run_fails_before_doing_anything(tmp_path):
    holder, port = taken_port()
    with holder:
        expected = port_problem(port)
        result = subprocess.run(
            ["make", "--no-print-directory", "run", f"PORT={port}"],
            cwd=BASE_DIR,
            env=clean_env(VAR_DIR=str(tmp_path / "var")),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    problem = [line for line in result.stderr.splitlines() if f"Port {port}" in line]
    assert problem == [expected], result.stderr
    assert "already in use" in problem[0]
    # Nothing ran after the check: no migration, no var/ prepared.
    assert "migrate" not in result.stdout and not (tmp_path / "var").exists()


def test_a_free_port_has_no_problem():
    holder, port = taken_port()
    holder.close()
    assert port_problem(port) is None


SMALL_PROCFILE = """\
web: {python} -u {scripts}/web.py
worker: {python} -u {scripts}/worker.py
"""

WEB = """\
import os, signal, socket, sys
server = socket.socket(); server.bind(("127.0.0.1", int(os.environ["PORT"]))); server.listen(1)
print("site", os.environ["SITE_URL"], "port", os.environ["PORT"], "web", os.environ["WEB_PORT"])
print("Quit the server with CONTROL-C.")
print("For more information on production servers see: https://docs.djangoproject.com/")
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
signal.sigwait({signal.SIGTERM})
"""

# Takes 7 seconds to stop: honcho's own wait (5 s) would SIGKILL it half-way.
WORKER = """\
import os, signal, sys, time
print("site", os.environ["SITE_URL"], "port", os.environ["PORT"])
print("celery@test ready.")
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
signal.sigwait({signal.SIGTERM})
print("finishing the current task"); sys.stdout.flush()
time.sleep(7)
print("worker stopped cleanly")
"""


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_a_sigint_to_make_alone_stops_every_process_after_the_banner(tmp_path):
    holder, port = taken_port()
    holder.close()
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "web.py").write_text(WEB)
    (scripts / "worker.py").write_text(WORKER)
    (tmp_path / "Procfile").write_text(SMALL_PROCFILE.format(python=sys.executable, scripts=scripts))
    # The same recipe line as `make run`'s last one.
    (tmp_path / "Makefile").write_text(
        textwrap.dedent(f"""\
            run:
            \tcd {BASE_DIR} && {sys.executable} -m devtools.run start --port {port} \\
            \t\t--procfile {tmp_path / "Procfile"} --parent $$PPID
            """)
    )
    out = open(tmp_path / "out.txt", "w+")  # noqa: SIM115 - read while make writes it
    make = subprocess.Popen(
        ["make", "--no-print-directory", "-f", str(tmp_path / "Makefile"), "run"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # like a terminal's job; the test sends SIGINT to make alone
        # A terminal starts make with SIGINT at its default. An ignored SIGINT is inherited through exec, and a make
        # that starts with it ignored never stops on it (devtools/run.py says so): a suite started in the background
        # by a non-interactive shell (`bash .ci/run &`) ignores SIGINT throughout, and the test waited its 30 s out.
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 30
        while "running at" not in (tmp_path / "out.txt").read_text() and time.monotonic() < deadline:
            assert make.poll() is None, (tmp_path / "out.txt").read_text()
            time.sleep(0.2)
        started = (tmp_path / "out.txt").read_text()
        assert "running at" in started, started
        os.kill(make.pid, signal.SIGINT)
        assert make.wait(timeout=30) == 0 or make.returncode in (130, 2, -signal.SIGINT)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
    output = (tmp_path / "out.txt").read_text()
    lines = output.splitlines()
    # Every process links to the web server's port, whatever PORT honcho would give it.
    assert f"site http://127.0.0.1:{port} port {port} web {port}" in output
    assert output.count(f"site http://127.0.0.1:{port}") == 2
    # The banner comes after both processes' start-up lines, with the address and three logins.
    banner_at = next(i for i, line in enumerate(lines) if "running at" in line)
    assert banner_at > max(i for i, line in enumerate(lines) if "production servers" in line or "ready." in line)
    banner_text = "\n".join(lines[banner_at : banner_at + 8])
    assert f"http://127.0.0.1:{port}/" in banner_text and DEMO_PASSWORD in banner_text
    assert all(email in banner_text for email, _ in DEMO_LOGINS) and "mail" in banner_text
    # The slow worker was allowed to finish, nobody was SIGKILLed, and nothing is left running.
    assert "worker stopped cleanly" in output and "SIGKILL" not in output, output
    leftovers = subprocess.run(["pgrep", "-f", str(scripts)], capture_output=True, text=True).stdout.split()
    assert leftovers == []


def test_the_kombu_and_weasyprint_noise_is_filtered_and_other_warnings_are_not(tmp_path):
    script = textwrap.dedent("""\
        import logging, django
        django.setup()
        logging.getLogger("kombu.connection").warning("No hostname was supplied. Reverting to default 'localhost'")
        logging.getLogger("weasyprint").warning("Ignored `clip: rect(0 0 0 0)` at 31:70, unknown property.")
        logging.getLogger("weasyprint").warning("Ignored `colour: red` at 1:1, unknown property.")
        logging.getLogger("kombu.connection").warning("Connection refused")
        """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=clean_env(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1", SECRET_KEY="s" * 60),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "No hostname" not in result.stderr and "clip" not in result.stderr
    assert "Ignored `colour: red`" in result.stderr and "Connection refused" in result.stderr
