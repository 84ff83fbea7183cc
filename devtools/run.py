"""What ``make run`` starts: web, worker and beat from ``Procfile.dev`` under honcho, for development only.

``python -m devtools.run check-port`` says in one line, and exits 1, when the web server's port is taken
(``make run`` calls it before migrating); ``reset`` deletes the development database, files, mail and queued
tasks under ``var/`` (``make demo-reset``, then ``make run`` loads the demo again). ``start`` runs the
Procfile with honcho's manager and adds what honcho alone does not do:

- every process gets the same ``WEB_PORT`` and ``SITE_URL`` (honcho gives each its own ``PORT``, so a
  worker would otherwise write emails that link to its own, dead, port);
- when web, worker and beat have all said they are ready, a short banner (address, logins, mail) is
  printed after their start-up noise;
- on Ctrl-C the worker gets ``SHUTDOWN_WAIT`` seconds (not honcho's 5) to finish the task it is running
  (a PDF takes a few seconds), so it is not killed half-way;
- a SIGINT sent to ``make`` alone (``kill -INT <make pid>``) stops everything: GNU make does not pass
  SIGINT on to its children (a terminal sends it to the whole foreground group), it resets its handler and
  waits for them. The launcher watches the process named by ``--parent`` (make) and stops when make's
  SIGINT handler is gone (``SigCgt`` in ``/proc/<pid>/status``, Linux) or make itself is. (A make started
  in the background by a non-interactive shell ignores SIGINT from the start, as POSIX says; it then does
  not stop on SIGINT itself either, and neither does this; SIGTERM to make stops everything in any case.)

It imports neither Django nor the product; nothing in the product imports it.
"""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from honcho import manager as honcho_manager  # type: ignore[import-untyped]
from honcho.environ import parse_procfile  # type: ignore[import-untyped]
from honcho.printer import Message, Printer  # type: ignore[import-untyped]

BASE_DIR = Path(__file__).resolve().parent.parent
SHUTDOWN_WAIT = 30
DEMO_PASSWORD = "conduct-demo-2025"
# Three accounts that show the product from three sides (README "Demo logins" lists the rest).
DEMO_LOGINS = (
    ("staff@att.example", "a staff member with a code overdue"),
    ("governor@llt.example", "a governor with a code to sign and a declaration to renew"),
    ("clerk@llt.example", "a clerk: drafting, meetings, chasing signatures"),
)
# What each process prints last once it is ready (Django 5.2's runserver ends with its production warning,
# Celery's worker and beat).
READY_LINES = {
    "web": "For more information on production servers",
    "worker": " ready.",
    "beat": "beat: Starting",
}


def port_problem(port: int, host: str = "127.0.0.1") -> str | None:
    """One line naming the port when it cannot be used, else None."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"Port {port} on {host} is already in use: stop what is using it "
                    f"(`ss -ltnp 'sport = :{port}'` shows it) or run `make run PORT=<another port>`."
                )
            return f"Port {port} on {host} cannot be used: {error.strerror}."
    return None


def banner(site_url: str, mail_dir: str) -> str:
    width = max(len(email) for email, _ in DEMO_LOGINS)
    lines = [
        "",
        "=" * 72,
        f"  Codes of Conduct is running at {site_url}/",
        f"  Sign in (password {DEMO_PASSWORD}) as:",
        *(f"    {email.ljust(width)}  {what}" for email, what in DEMO_LOGINS),
        f"  Outgoing mail is written to {mail_dir}/ (one file per email or batch).",
        "  Ctrl-C stops web, worker and beat.",
        "=" * 72,
        "",
    ]
    return "\n".join(lines)


class ReadyPrinter(Printer):
    """honcho's printer, which also notices when every process is ready and then prints the banner once."""

    def __init__(self, *args, expected: dict[str, str], text: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.waiting = dict(expected)
        self.text = text
        self.shown = False

    def write(self, message: Message) -> None:
        super().write(message)
        if self.shown or message.type != "line":
            return
        data = message.data.decode("utf-8", "replace") if isinstance(message.data, bytes) else message.data
        marker = self.waiting.get(message.name or "")
        if marker and marker in data:
            del self.waiting[message.name]
        if not self.waiting:
            self.shown = True
            self.output.write(self.text + "\n")
            self.output.flush()


def catches_sigint(pid: int) -> bool | None:
    """Whether process ``pid`` has a SIGINT handler installed; None when it is gone or unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return None


def watch_parent(pid: int, interval: float = 0.2) -> None:
    """Send ourselves SIGINT (honcho's clean stop) once ``pid`` has handled a SIGINT or has gone."""
    had_handler = catches_sigint(pid)
    while True:
        time.sleep(interval)
        now = catches_sigint(pid)
        if now is None or (had_handler and not now):
            os.kill(os.getpid(), signal.SIGINT)
            return


def mail_folder() -> str:
    """Where development mail goes (``EMAIL_FILE_PATH`` in the settings), relative to the checkout if inside it."""
    folder = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var").resolve() / "mail"
    return str(folder.relative_to(BASE_DIR)) if folder.is_relative_to(BASE_DIR) else str(folder)


def start(procfile: Path, web_port: int, parent: int | None) -> int:
    site_url = os.environ.get("SITE_URL") or f"http://127.0.0.1:{web_port}"
    shared_env = {**os.environ, "WEB_PORT": str(web_port), "SITE_URL": site_url, "PORT": str(web_port)}
    processes = parse_procfile(procfile.read_text()).processes
    printer = ReadyPrinter(
        sys.stdout,
        expected={name: marker for name, marker in READY_LINES.items() if name in processes},
        text=banner(site_url, mail_folder()),
    )
    honcho_manager.KILL_WAIT = SHUTDOWN_WAIT  # honcho reads the module constant when it waits
    runner = honcho_manager.Manager(printer=printer)
    for name, command in processes.items():
        runner.add_process(name, command, env=shared_env, cwd=str(BASE_DIR))
    if parent:
        threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()
    runner.loop()
    code = runner.returncode or 0
    # Stopped on request (SIGINT/SIGTERM) is a clean end, not a failure.
    return 0 if code in (130, 143) else code


def reset(var: Path) -> int:
    """Delete the development demo's state under ``var`` (database, files, mail, queued tasks); keep keys."""
    if os.environ.get("DATABASE_URL"):
        print(
            "DATABASE_URL is set: `make demo-reset` only resets the development SQLite database. "
            "Drop and re-create that database yourself, then run `make run`.",
            file=sys.stderr,
        )
        return 1
    removed = []
    for name in ("conduct.sqlite3", "conduct.sqlite3-journal", "conduct.sqlite3-wal", "conduct.sqlite3-shm"):
        if (var / name).exists():
            (var / name).unlink()
            removed.append(name)
    for name in ("media", "mail", "celery", "celerybeat-schedule"):
        path = var / name
        if path.is_dir():
            shutil.rmtree(path)
            removed.append(f"{name}/")
        elif path.exists():
            path.unlink()
            removed.append(name)
    print(f"Demo reset: removed {', '.join(removed) or 'nothing'} under {var}; the secret and seal keys are kept.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.run", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["check-port", "start", "reset"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT") or os.environ.get("PORT") or 8000))
    parser.add_argument("--procfile", type=Path, default=BASE_DIR / "Procfile.dev")
    parser.add_argument("--parent", type=int, default=None, help="stop when this process (make) gets SIGINT")
    args = parser.parse_args(argv)
    if args.action == "reset":
        return reset(Path(os.environ.get("VAR_DIR") or BASE_DIR / "var"))
    problem = port_problem(args.port)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    if args.action == "check-port":
        return 0
    return start(args.procfile, args.port, args.parent)


if __name__ == "__main__":
    sys.exit(main())
