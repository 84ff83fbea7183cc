"""The settings write nothing when imported; ``python -m config.prepare`` is the one step that does.

Each check runs in a fresh interpreter with a VAR_DIR of its own and its working directory in an
empty folder, so a file written anywhere relative (kombu's ``control/``, say) is seen too.
"""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS_FILE = BASE_DIR / "config" / "settings.py"
# Variables the test process sets for itself, or that would point the settings elsewhere.
NOT_INHERITED = {
    "SECRET_KEY",
    "VAR_DIR",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "DATABASE_URL",
    "EMAIL_HOST",
    "CELERY_BROKER_URL",
    "SEAL_KEY_FILE",
    "SEAL_CERT_FILE",
    "EVIDENCE_KEY_FILE",
}


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in NOT_INHERITED and not key.startswith(("DJANGO_", "PYTEST", "GOOGLE_", "MICROSOFT_"))
    }
    clean.update(PYTHONPATH=str(BASE_DIR), DEBUG="1", **env)
    workdir = tmp_path / "cwd"
    workdir.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, *args], cwd=workdir, env=clean, capture_output=True, text=True, timeout=180)


def files_under(path: Path) -> list[str]:
    return sorted(str(item.relative_to(path)) for item in path.rglob("*"))


@pytest.mark.parametrize("var_exists", [False, True], ids=["no VAR_DIR", "empty VAR_DIR"])
def test_importing_the_development_settings_writes_nothing(tmp_path, var_exists):
    var = tmp_path / "var"
    if var_exists:
        var.mkdir()
    result = run(tmp_path, "-c", "import config.settings", VAR_DIR=str(var), SECRET_KEY="k" * 60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert files_under(tmp_path) == (["cwd", "var"] if var_exists else ["cwd"])


SET_UP_DJANGO = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
import django
django.setup()  # every app's models and admin
import config.urls  # every view
from config.celery import app
app.loader.import_default_modules()  # every tasks module
"""


def test_setting_up_django_in_development_writes_nothing(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    script = SET_UP_DJANGO
    result = run(tmp_path, "-c", script, VAR_DIR=str(var), SECRET_KEY="k" * 60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert files_under(tmp_path) == ["cwd", "var"]


def test_without_a_prepared_key_the_development_settings_say_how_to_make_one(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    result = run(tmp_path, "-c", "import config.settings", VAR_DIR=str(var))
    assert result.returncode != 0
    assert "ImproperlyConfigured: No development secret key in" in result.stderr
    assert "make run" in result.stderr and "python -m config.prepare" in result.stderr
    assert files_under(tmp_path) == ["cwd", "var"]


SHOW_SETTINGS = """
import json
from config import settings
options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
print(json.dumps({
    "secret_key": settings.SECRET_KEY,
    "folders": [str(settings.VAR_DIR), str(settings.EMAIL_FILE_PATH), str(settings.MEDIA_ROOT)]
    + [options[name] for name in ("data_folder_in", "data_folder_out", "control_folder")],
}))
"""


def test_prepare_makes_the_folders_the_settings_name_and_a_private_key(tmp_path):
    var = tmp_path / "var"
    result = run(tmp_path, "-m", "config.prepare", VAR_DIR=str(var))
    assert result.returncode == 0, result.stderr[-3000:]

    key_file = var / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text()
    assert len(key) >= 50
    for folder in ("mail", "media", "celery/queue", "celery/control"):
        assert (var / folder).is_dir(), folder

    # The development settings read that key, and every folder they name under VAR_DIR exists.
    shown = run(tmp_path, "-c", SHOW_SETTINGS, VAR_DIR=str(var))
    assert shown.returncode == 0, shown.stderr[-3000:]
    settings = json.loads(shown.stdout)
    assert settings["secret_key"] == key
    assert len(settings["folders"]) == 6
    assert all(Path(folder).is_dir() for folder in settings["folders"]), settings["folders"]

    # Preparing again changes nothing: the key (and so everyone's sessions) survives.
    before = files_under(tmp_path)
    again = run(tmp_path, "-m", "config.prepare", VAR_DIR=str(var))
    assert again.returncode == 0 and "is ready" in again.stdout
    assert key_file.read_text() == key and files_under(tmp_path) == before


# ---------------------------------------------------------------------------
# Each setting is defined in one place
# ---------------------------------------------------------------------------

MUTATING_METHODS = {"append", "extend", "insert", "update", "setdefault", "pop", "remove", "clear", "add"}


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_setting(name: str | None) -> bool:
    return name is not None and name.isupper() and not name.startswith("_")


def _module_level(body: list[ast.stmt], branch: tuple = ()):
    """Module-level statements (including those inside if/else and try), each with the branches it is in."""
    for statement in body:
        yield statement, branch
        if isinstance(statement, ast.If):
            yield from _module_level(statement.body, (*branch, (id(statement), "if")))
            yield from _module_level(statement.orelse, (*branch, (id(statement), "else")))
        elif isinstance(statement, ast.Try):
            for part in (statement.body, *(handler.body for handler in statement.handlers), statement.orelse):
                yield from _module_level(part, branch)


def _exclusive(first: tuple, second: tuple) -> bool:
    """Whether two branch paths are different arms of the same if statement."""
    return any(a[0] == b[0] and a[1] != b[1] for a, b in zip(first, second, strict=False))


def late_changes(source: str) -> list[str]:
    problems = []
    assigned: dict[str, list[tuple]] = {}
    for statement, branch in _module_level(ast.parse(source).body):
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
            targets = [statement.target]
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            function = statement.value.func
            if (
                isinstance(function, ast.Attribute)
                and function.attr in MUTATING_METHODS
                and _is_setting(_root_name(function.value))
            ):
                problems.append(f"line {statement.lineno}: {ast.unparse(statement)}")
        for target in targets:
            if isinstance(target, ast.Name) and _is_setting(target.id):
                if isinstance(statement, ast.AugAssign):
                    problems.append(f"line {statement.lineno}: {ast.unparse(statement)}")
                elif any(not _exclusive(branch, other) for other in assigned.get(target.id, [])):
                    problems.append(f"line {statement.lineno}: {target.id} is defined a second time")
                assigned.setdefault(target.id, []).append(branch)
            elif _is_setting(_root_name(target)):
                problems.append(f"line {statement.lineno}: {ast.unparse(statement)}")
    return problems


def test_the_check_catches_each_kind_of_late_change():
    assert late_changes("MIDDLEWARE = ['a']\nMIDDLEWARE.append('b')") != []
    assert late_changes("X = {}\nX['k'] = 1") != []
    assert late_changes("X = {}\nif True:\n    X.setdefault('k', {})['j'] = 1") != []
    assert late_changes("X = []\nX += ['b']") != []
    assert late_changes("X = []\nX = [*X, 'b']") != []
    assert late_changes("T = [{}]\nT[0]['OPTIONS'].setdefault('libraries', {})['x'] = 'y'") != []
    # Defined once in each arm of an if, or private helpers changed on the way: fine.
    assert late_changes("if A:\n    X = 1\nelif B:\n    X = 2\nelse:\n    X = 3") == []
    assert late_changes("_options = {}\n_options['k'] = 1\nX = _options") == []


def test_each_setting_is_defined_in_one_place():
    assert late_changes(SETTINGS_FILE.read_text()) == []
