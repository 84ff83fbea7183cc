"""config/gunicorn.py: every value from the environment, strictly read, and the collector frozen around forks."""

from __future__ import annotations

import gc
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

CONFIG = Path(__file__).resolve().parents[2] / "config" / "gunicorn.py"
VARIABLES = (
    "PORT",
    "GUNICORN_BIND",
    "GUNICORN_WORKERS",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_PRELOAD",
    "GUNICORN_GC_THRESHOLD",
    "GUNICORN_MAX_REQUESTS",
    "GUNICORN_WORKER_CONNECTIONS",
)


def load(monkeypatch, **environment: str) -> ModuleType:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_config_under_test", CONFIG)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_defaults_are_threaded_workers_per_cpu_with_preloading_and_a_timeout(monkeypatch):
    config = load(monkeypatch)
    assert config.bind == ["0.0.0.0:8000"]
    assert config.workers >= 3 and config.threads == 2 and config.worker_class == "gthread"
    assert config.timeout == 30 and config.graceful_timeout == 30 and config.preload_app is True
    assert config.max_requests == 2000 and config.max_requests_jitter == 200
    assert config.GC_THRESHOLD == (50000, 20, 100)
    # A threaded worker takes one connection more than it has threads, not gunicorn's 1,000: the rest of a burst
    # waits in the listen queue for whichever worker frees a thread first.
    assert config.worker_connections == config.threads + 1 == 3


def test_the_connections_a_worker_holds_follow_its_threads_and_never_fall_below_them(monkeypatch):
    assert load(monkeypatch, GUNICORN_THREADS="4").worker_connections == 5
    assert load(monkeypatch, GUNICORN_THREADS="4", GUNICORN_WORKER_CONNECTIONS="40").worker_connections == 40
    with pytest.raises(ImproperlyConfigured, match="GUNICORN_WORKER_CONNECTIONS"):
        load(monkeypatch, GUNICORN_THREADS="4", GUNICORN_WORKER_CONNECTIONS="3")


def test_values_come_from_the_environment(monkeypatch):
    config = load(
        monkeypatch,
        PORT="8301",
        GUNICORN_WORKERS="4",
        GUNICORN_THREADS="1",
        GUNICORN_TIMEOUT="60",
        GUNICORN_PRELOAD="0",
        GUNICORN_GC_THRESHOLD="1000,10,10",
    )
    assert config.bind == ["0.0.0.0:8301"]
    assert (config.workers, config.threads, config.worker_class, config.timeout) == (4, 1, "sync", 60)
    assert config.preload_app is False and config.GC_THRESHOLD == (1000, 10, 10)


@pytest.mark.parametrize(
    "name,value",
    [("GUNICORN_WORKERS", "four"), ("GUNICORN_WORKERS", "0"), ("GUNICORN_GC_THRESHOLD", "1,2"), ("PORT", "99999")],
)
def test_a_bad_value_fails_at_start_up_naming_the_variable(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        load(monkeypatch, **{name: value})


def _served(preload: bool) -> SimpleNamespace:
    """What gunicorn passes its hooks as the server or the worker: here, only their configuration."""
    return SimpleNamespace(cfg=SimpleNamespace(preload_app=preload))


@pytest.mark.parametrize("preload", [True, False])
def test_the_hooks_freeze_what_is_loaded_and_raise_the_thresholds(monkeypatch, preload):
    config = load(monkeypatch, GUNICORN_GC_THRESHOLD="40000,15,90")
    prepared: list[str] = []
    monkeypatch.setattr("core.tasks.prepare_to_publish", lambda: prepared.append("prepared"))
    before = gc.get_threshold()
    try:
        gc.unfreeze()
        assert gc.get_freeze_count() == 0
        config.when_ready(server=_served(preload))
        assert gc.get_freeze_count() > 0
        assert prepared == (["prepared"] if preload else [])  # in the master, before forking, when it loads the app
        config.post_fork(server=_served(preload), worker=None)
        assert gc.get_threshold() == (40000, 15, 90)
        frozen = gc.get_freeze_count()
        _made_since: list[list[int]] = [[] for _ in range(1000)]  # noqa: F841 - tracked objects made after the freeze
        config.post_worker_init(worker=_served(preload))
        assert gc.get_freeze_count() >= frozen + 1000
        assert prepared == ["prepared"]  # once either way: in each worker only when the master did not load the app
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_gunicorn_accepts_the_file(tmp_path):
    # A development instance of its own (keys under tmp_path), so the check works on a fresh clone too.
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "GUNICORN_WORKERS": "2", "VAR_DIR": str(tmp_path / "var")}
    prepared = subprocess.run(
        [sys.executable, "-m", "config.prepare"], cwd=CONFIG.parents[1], env=env, capture_output=True, text=True
    )
    assert prepared.returncode == 0, prepared.stderr
    result = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(CONFIG), "--check-config", "config.wsgi"],
        cwd=CONFIG.parents[1],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
