"""Production settings (from the environment, DEBUG off) with the benchmark's URLs: the floor view added.

Only ``manage.py benchmark_pages`` uses this module, for the gunicorn it starts; production never does.
"""

from config.settings import *  # noqa: F403 - the production settings, unchanged but for the URLs

ROOT_URLCONF = "devtools.benchmark_urls"
