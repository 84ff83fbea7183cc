"""Fixtures for the devtools tests: the signing tests' own (one definition, imported)."""

from acknowledgements.tests.conftest import fresh_cache, staff  # noqa: F401  (pytest finds fixtures by name here)
