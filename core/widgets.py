"""Widgets written in Python where Django's templates cost a page more than its data."""

from __future__ import annotations

import html
from typing import Any

from django import forms
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString


def _attributes(attrs: dict[str, Any]) -> SafeString:
    """HTML attributes in the order given, as Django's attrs.html writes them (True bare, False left out)."""
    return SafeString(
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False and value is not None
        )
    )


def _escape(value: Any) -> str:
    """``conditional_escape`` without ``keep_lazy``'s check of every argument (two calls an option, a hundred
    options a page): a safe string as it is, anything else through the ``html.escape`` Django's ``escape`` uses."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


class QuickSelect(forms.Select):
    """A <select> written in Python: the same markup as Django's template (attributes, the selected option,
    option groups), without one template include per option. The people directory's and the reports' filters offer
    every organisation an officer manages, and rendering each option through a template was most of the time
    those pages spent on their forms."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        # The options straight from the choices (not through get_context's optgroups, a dict per option): the
        # organisation filter offers every organisation the officer manages.
        selected = set(self.format_value(value))
        chosen = False

        def options(choices: Any) -> str:
            nonlocal chosen
            written = []
            for option_value, label in choices:
                text = "" if option_value is None else str(option_value)
                mark = text in selected and (
                    self.allow_multiple_selected or not chosen
                )  # Django's: the first match only
                chosen = chosen or mark
                written.append(
                    f'<option value="{_escape(text)}"{" selected" if mark else ""}>{_escape(label)}</option>'
                )
            return "".join(written)

        groups = []
        for group_value, group_label in self.choices:
            if isinstance(group_label, list | tuple):
                groups.append(f'<optgroup label="{conditional_escape(group_value)}">{options(group_label)}</optgroup>')
            else:
                groups.append(options([(group_value, group_label)]))
        final = self.build_attrs(self.attrs, attrs)
        return SafeString(f'<select name="{escape(name)}"{_attributes(final)}>{"".join(groups)}</select>')
