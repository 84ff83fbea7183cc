"""Turns a version's sections and clauses into semantic HTML.

One renderer serves the browser, the signed PDF and the adoption certificate,
so what a person reads is what their PDF shows. Clauses are stored flat with a
depth; here they become nested lists: numbered paragraphs stay paragraphs,
bullet, "Always" and "Never" items become list items, a subheading becomes an
``h3``. Role-limited clauses are hidden from readers who do not hold the role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from conduct.models import Clause, ClauseStyle, Section, role_label_plural

LIST_STYLES = {ClauseStyle.BULLET, ClauseStyle.ALWAYS, ClauseStyle.NEVER}
Annotator = Callable[[Clause], tuple[str, str]]  # clause -> (extra css classes, extra badge html)


@dataclass
class Node:
    clause: Clause
    children: list[Node] = field(default_factory=list)


def clause_tree(clauses: Iterable[Clause]) -> list[Node]:
    """Nest a flat, ordered list of clauses by depth."""
    roots: list[Node] = []
    stack: list[Node] = []
    for clause in clauses:
        node = Node(clause)
        while stack and stack[-1].clause.depth >= clause.depth:
            stack.pop()
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
    return roots


def visible_clauses(clauses: Iterable[Clause], role_kinds: Iterable[str] | None) -> list[Clause]:
    """Drop clauses (and everything nested under them) that do not apply to the reader.

    The one rule of who sees a clause: one limited to roles (``Clause.roles``) is shown to a reader holding
    one of them; ``role_kinds=None`` (an officer's or previewer's view) shows everything.
    """
    kinds = None if role_kinds is None else set(role_kinds)
    shown: list[Clause] = []
    hidden_below: int | None = None
    for clause in clauses:
        if hidden_below is not None and clause.depth > hidden_below:
            continue
        hidden_below = None
        if kinds is not None and clause.roles and not (set(clause.roles) & kinds):
            hidden_below = clause.depth
            continue
        shown.append(clause)
    return shown


def _badges(clause: Clause, show_role_tags: bool) -> SafeString:
    parts = []
    if clause.is_new:
        parts.append(mark_safe('<span class="badge text-bg-warning ms-1">New or updated</span>'))
    if show_role_tags and clause.roles:
        who = ", ".join(role_label_plural(kind) for kind in clause.roles)
        parts.append(format_html('<span class="badge text-bg-info ms-1">{} only</span>', who))
    return mark_safe("".join(parts))


def _clause_inner(clause: Clause, show_role_tags: bool, extra_badge: str) -> SafeString:
    number = format_html('<span class="clause-number">{}</span> ', clause.number) if clause.number else ""
    term = format_html('<strong class="clause-term">{}:</strong> ', clause.term) if clause.term else ""
    marker = ""
    if clause.style == ClauseStyle.ALWAYS:
        marker = mark_safe(
            '<span class="clause-marker" aria-hidden="true">✓</span><span class="visually-hidden">Always: </span>'
        )
    elif clause.style == ClauseStyle.NEVER:
        marker = mark_safe(
            '<span class="clause-marker" aria-hidden="true">✗</span><span class="visually-hidden">Never: </span>'
        )
    return format_html(
        "{}{}{}{}{}{}",
        marker,
        number,
        term,
        conditional_escape(clause.text),
        _badges(clause, show_role_tags),
        mark_safe(extra_badge),
    )


class Renderer:
    def __init__(self, *, show_role_tags: bool, annotate: Annotator | None = None):
        self.show_role_tags = show_role_tags
        self.annotate = annotate

    def _classes(self, clause: Clause) -> tuple[str, str]:
        classes = f"clause clause-{clause.style}" + (" clause-new" if clause.is_new else "")
        extra_classes, extra_badge = self.annotate(clause) if self.annotate else ("", "")
        return f"{classes} {extra_classes}".strip(), extra_badge

    def nodes(self, nodes: Sequence[Node]) -> SafeString:
        """Render siblings, gathering consecutive list items into one list."""
        out: list[str] = []
        run: list[Node] = []
        for node in nodes:
            if self._is_list_item(node):
                run.append(node)
                continue
            if run:
                out.append(self.list(run))
                run = []
            out.append(self.block(node))
        if run:
            out.append(self.list(run))
        return mark_safe("".join(out))

    @staticmethod
    def _is_list_item(node: Node) -> bool:
        clause = node.clause
        return clause.style in LIST_STYLES or (clause.style == ClauseStyle.NUMBERED and clause.depth > 0)

    def list(self, run: Sequence[Node]) -> SafeString:
        kind = "ol" if all(n.clause.style == ClauseStyle.NUMBERED for n in run) else "ul"
        styles = {n.clause.style for n in run}
        list_class = "clause-list"
        if kind == "ol" or styles & {ClauseStyle.ALWAYS, ClauseStyle.NEVER}:
            list_class += " list-unstyled"
        items = []
        for node in run:
            classes, badge = self._classes(node.clause)
            items.append(
                format_html(
                    '<li class="{}" id="c-{}">{}{}</li>',
                    classes,
                    node.clause.key,
                    _clause_inner(node.clause, self.show_role_tags, badge),
                    self.nodes(node.children),
                )
            )
        return format_html('<{} class="{}">{}</{}>', kind, list_class, mark_safe("".join(items)), kind)

    def block(self, node: Node) -> SafeString:
        clause = node.clause
        classes, badge = self._classes(clause)
        inner = _clause_inner(clause, self.show_role_tags, badge)
        if clause.style == ClauseStyle.SUBHEADING:
            head = format_html('<h3 class="clause-subheading h6 mt-3 {}" id="c-{}">{}</h3>', classes, clause.key, inner)
            return format_html("{}{}", head, self.nodes(node.children))
        return format_html(
            '<div class="{}" id="c-{}"><p class="mb-2">{}</p>{}</div>',
            classes,
            clause.key,
            inner,
            self.nodes(node.children),
        )


def render_sections(
    sections: Iterable[Section],
    *,
    role_kinds: Iterable[str] | None = None,
    show_role_tags: bool = True,
    annotate: Annotator | None = None,
    heading_level: int = 2,
) -> SafeString:
    """HTML for the given sections (with prefetched clauses) as a reader holding ``role_kinds`` sees them.

    ``role_kinds=None`` shows every clause (an officer's or previewer's view).
    """
    renderer = Renderer(show_role_tags=show_role_tags, annotate=annotate)
    out = []
    for section in sections:
        clauses = visible_clauses(section.clauses.all(), role_kinds)
        if not clauses and (section.title or section.number):
            continue
        heading = ""
        if section.number or section.title:
            number = format_html('<span class="section-number">{}.</span> ', section.number) if section.number else ""
            heading = format_html(
                '<h{} class="section-heading" id="h-{}">{}{}</h{}>',
                heading_level,
                section.key,
                number,
                section.title,
                heading_level,
            )
        labelled = format_html(' aria-labelledby="h-{}"', section.key) if heading else ""
        out.append(
            format_html(
                '<section class="code-section" id="s-{}"{}>{}{}</section>',
                section.key,
                labelled,
                heading,
                renderer.nodes(clause_tree(clauses)),
            )
        )
    return mark_safe("".join(out))
