"""``{% load sections %}``: a section's name among its version's sections (conduct.section_names)."""

from collections.abc import Sequence
from typing import Any

from django import template

from conduct.section_names import section_names

register = template.Library()


@register.simple_tag
def section_name(sections: Sequence[Any], index: int) -> str:
    """The name of ``sections[index]``; each item is a section, an import row, or an editor entry holding one."""
    headed = [getattr(item, "section", item) for item in sections]
    return section_names(headed)[index]
