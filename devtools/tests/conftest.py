"""Fixtures for the devtools tests: the signing tests' own (one definition, imported)."""

from acknowledgements.tests.conftest import staff  # noqa: F401  (pytest finds fixtures by name here)
