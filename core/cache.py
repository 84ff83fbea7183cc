"""The file cache that `make run` and a single server use by default (config.env.env_cache).

Django's FileBasedCache makes its folder as soon as it is created, which happens while Django sets up:
importing the settings and setting up must write nothing (core/tests/test_settings.py). This one makes the
folder on the first write instead, as FileBasedCache's own ``set`` already does (the folder may be deleted
at any time); reads of a missing folder are misses.
"""

from __future__ import annotations

import os

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.filebased import FileBasedCache


class FileCache(FileBasedCache):
    def __init__(self, dir, params):  # noqa: A002 - Django's parameter name
        BaseCache.__init__(self, params)
        self._dir = os.path.abspath(dir)
