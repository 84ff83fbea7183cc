"""Migrations are history: what one does to a fresh database must not change when project code does.

So a migration never imports project code to *run* (trigger SQL, helpers, constants, models: a
RunPython function uses ``apps.get_model``). The only project names a migration may mention are the
ones Django's migration writer itself puts into the historical model state: callable field defaults,
``upload_to``, validators, model bases and managers (``use_in_migrations``). Those are references
Django requires to stay importable for as long as a migration names them; they do not run SQL.
"""

from __future__ import annotations

import ast
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

REPO = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = {"core", "conduct", "acknowledgements", "reminders", "reports", "devtools", "config"}
# Keyword arguments whose values the migration writer serialises as references into the model state.
MODEL_STATE_KEYWORDS = {"default", "upload_to", "validators", "bases", "managers"}
DYNAMIC_IMPORTS = {"import_module", "__import__", "import_string"}


def _is_project(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in PROJECT_PACKAGES


def project_code_uses(source: str) -> list[str]:
    """Every way this migration source reaches project code other than a model-state reference."""
    tree = ast.parse(source)
    problems = []
    imported_names: dict[str, str] = {}  # name bound in the module -> the project module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level or _is_project(node.module):
                names = ", ".join(alias.name for alias in node.names)
                problems.append(f"line {node.lineno}: from {'.' * node.level}{node.module or ''} import {names}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_project(alias.name):
                    imported_names[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.Call):
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
            if name in DYNAMIC_IMPORTS and any(
                isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _is_project(arg.value)
                for arg in node.args
            ):
                problems.append(f"line {node.lineno}: {name}({ast.unparse(node.args[0])})")

    in_model_state = {
        id(name)
        for keyword in ast.walk(tree)
        if isinstance(keyword, ast.keyword) and keyword.arg in MODEL_STATE_KEYWORDS
        for name in ast.walk(keyword.value)
        if isinstance(name, ast.Name)
    }
    used_in_model_state = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in imported_names:
            if id(node) in in_model_state:
                used_in_model_state.add(node.id)
            else:
                problems.append(f"line {node.lineno}: uses {imported_names[node.id]} outside the model state")
    problems += [
        f"imports {module} for no model-state reference"
        for name, module in imported_names.items()
        if name not in used_in_model_state
    ]
    return problems


def migration_files() -> list[Path]:
    return sorted(REPO.glob("*/migrations/0*.py"))


def test_the_check_finds_the_migrations_and_catches_each_kind_of_project_import():
    found = {f"{path.parent.parent.name}/{path.name}" for path in migration_files()}
    assert {"conduct/0002_immutability_triggers.py", "acknowledgements/0003_append_only_triggers.py"} <= found

    assert project_code_uses("from conduct.db.triggers import content_triggers") != []
    assert project_code_uses("from .helpers import SQL") != []
    assert project_code_uses("import core.db.triggers\ndef forwards(apps, editor):\n    core.db.triggers.run()") != []
    assert project_code_uses("import conduct.models as m\nX = m.LOCKED") != []
    assert project_code_uses("import importlib\nt = importlib.import_module('core.db.triggers')") != []
    assert project_code_uses("import conduct.models\ndef f(apps, editor):\n    conduct.models.Code.objects.all()") != []
    # What the migration writer itself produces is allowed.
    assert project_code_uses("import core.canonical\nF = models.CharField(default=core.canonical.new_code)") == []
    assert project_code_uses("import conduct.models\nM = CreateModel(managers=[('objects', conduct.models.M())])") == []
    assert project_code_uses("import conduct.models") != []  # imported, so run, for nothing
    assert project_code_uses("from django.db import migrations\nimport django.db.models.deletion") == []


@pytest.mark.parametrize("path", migration_files(), ids=lambda path: f"{path.parent.parent.name}/{path.stem}")
def test_no_migration_runs_project_code(path):
    assert project_code_uses(path.read_text()) == []


@pytest.mark.django_db
def test_the_models_have_no_changes_without_a_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as error:
        pytest.fail(
            f"makemigrations --check exited {error.code}: the models have changes no migration records.\n"
            f"{out.getvalue()}"
        )
