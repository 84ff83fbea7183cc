"""CACHES from the environment: Redis or files, shared by every process; never a per-process memory cache."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_cache

NAMES = ("CACHE_URL", "REDIS_URL")


def test_unset_means_files_under_var_shared_by_every_process_of_the_host():
    assert env_cache(NAMES, "/srv/var/cache", environ={}) == {
        "BACKEND": "core.cache.FileCache",
        "LOCATION": "/srv/var/cache",
    }


def test_redis_from_either_variable_the_first_winning():
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://cache:6379/1"}
    assert env_cache(NAMES, "/x", environ={"REDIS_URL": "redis://cache:6379/1"}) == redis
    assert env_cache(NAMES, "/x", environ={"CACHE_URL": "redis://cache:6379/1", "REDIS_URL": "redis://b/2"}) == redis
    assert env_cache(NAMES, "/x", environ={"CACHE_URL": "file:///var/tmp/c"})["LOCATION"] == "/var/tmp/c"


@pytest.mark.parametrize(
    "value", ["locmem://", "memcached://m:11211", "redis://", "redis://h:notaport/1", "redis://h/db", "file://rel/x"]
)
def test_anything_else_stops_start_up_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        env_cache(NAMES, "/x", environ={"CACHE_URL": value})


def test_the_settings_never_use_a_per_process_cache(settings):
    from importlib import reload

    import config.settings as production

    reload(production)  # the module as a deployment reads it (the test settings swap in their own cache)
    assert "locmem" not in production.CACHES["default"]["BACKEND"]
    assert production.ALLAUTH_TRUSTED_PROXY_COUNT == production.TRUSTED_PROXY_COUNT


def test_the_file_cache_makes_its_folder_on_the_first_write_not_when_created(tmp_path):
    from core.cache import FileCache

    folder = tmp_path / "cache"
    cache = FileCache(str(folder), {})
    assert not folder.exists() and cache.get("missing") is None
    cache.set("key", "value")
    assert folder.is_dir() and FileCache(str(folder), {}).get("key") == "value"
