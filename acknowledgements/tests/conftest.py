"""Fixtures for the signing tests."""

import pytest

from acknowledgements.tests.factories import owing


@pytest.fixture
def staff(db):
    """An employee of Oak Trust North Academy who owes the trust's staff code."""
    return owing(full_name="Ada Lovelace")


@pytest.fixture
def declaring(db):
    """An employee who owes a code that asks for a declaration of interests."""
    return owing(name="Elm Trust", requires_declaration=True, full_name="Grace Hopper")
