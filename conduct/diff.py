"""Clause-by-clause differences between two versions of a code.

Used on the signing page ("what changed since the version you signed"), on the
drafting and history pages, and in the adoption certificate, so one function
answers for all of them: ``diff_versions(old, new)``.

How clauses are paired, most reliable first:

1. by ``key``: a draft copies the keys of the version it starts from, so a
   clause keeps its identity however much it is edited or moved;
2. by identical wording (ignoring spacing and case), for versions that were not
   drafted from each other (two trusts' copies of a model code);
3. by similar wording (difflib ratio of at least ``SIMILARITY_THRESHOLD``).

A paired clause whose words changed is "changed" (with word-level ``<del>`` and
``<ins>``), one whose place changed relative to the others, or whose section
changed, is "moved"; an unpaired old clause is "removed", an unpaired new one
"added". Renumbering, restyling and the "new or updated" flag are presentation,
not wording, and do not count as a change.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from conduct.models import Clause, CodeVersion, Section, role_label_plural
from conduct.rendering import visible_clauses
from conduct.section_names import section_names

ChangeKind = Literal["added", "removed", "moved", "changed", "unchanged"]
KINDS: tuple[ChangeKind, ...] = ("added", "removed", "moved", "changed", "unchanged")
KIND_LABELS = {
    "added": "New clause",
    "removed": "Removed",
    "moved": "Moved",
    "changed": "Reworded",
    "unchanged": "Unchanged",
}
SIMILARITY_THRESHOLD = 0.6

# Words, runs of spaces and single punctuation marks: the units highlighted inside a changed clause.
TOKEN_RE = re.compile(r"\w+(?:['’]\w+)*|\s+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class ClauseChange:
    """One clause's fate between two versions.

    ``section`` names the section it sits in (in the new version; in the old one
    for a removed clause); ``old_section`` is set when a moved clause changed
    section. ``html`` is the clause's wording, with ``<del>``/``<ins>`` around
    what was taken out and put in (the whole text for added and removed clauses).
    ``notes`` explain changes that are not wording, e.g. who the clause applies to.
    """

    kind: ChangeKind
    old: Clause | None
    new: Clause | None
    section: str
    html: SafeString
    old_section: str = ""
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def clause(self) -> Clause:
        """The clause as it now reads (or read, if removed)."""
        return self.new or self.old  # type: ignore[return-value]

    @property
    def is_change(self) -> bool:
        return self.kind != "unchanged"


@dataclass
class VersionDiff:
    old: CodeVersion
    new: CodeVersion
    changes: list[ClauseChange] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(change.kind != "unchanged" for change in self.changes)

    @property
    def counts(self) -> dict[str, int]:
        """How many clauses of each kind, every kind present (zero if none)."""
        tally = Counter(change.kind for change in self.changes)
        return {kind: tally.get(kind, 0) for kind in KINDS}

    @property
    def changed_only(self) -> list[ClauseChange]:
        return [change for change in self.changes if change.kind != "unchanged"]

    def summary(self) -> str:
        """A short sentence, e.g. "2 new clauses, 1 reworded, 1 removed"."""
        counts = self.counts
        parts = []
        for kind, singular, plural in (
            ("added", "new clause", "new clauses"),
            ("changed", "reworded", "reworded"),
            ("moved", "moved", "moved"),
            ("removed", "removed", "removed"),
        ):
            if counts[kind]:
                parts.append(f"{counts[kind]} {singular if counts[kind] == 1 else plural}")
        return ", ".join(parts) if parts else "No changes to the wording"


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


@dataclass
class _Item:
    """A clause with where it sits: its section and its position in reading order."""

    index: int
    clause: Clause
    section: Section
    section_name: str  # conduct.section_names: the name among its version's sections

    @property
    def wording(self) -> str:
        return clause_wording(self.clause)

    @property
    def normalised(self) -> str:
        return normalise(self.wording)


def clause_wording(clause: Clause) -> str:
    """What a reader reads: the bold lead-in, then the text."""
    return f"{clause.term}: {clause.text}" if clause.term else clause.text


def normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _items(version: CodeVersion, role_kinds: set[str] | None, sections: Iterable[Section] | None = None) -> list[_Item]:
    items: list[_Item] = []
    ordered = version.ordered_sections() if sections is None else list(sections)
    for section, name in zip(ordered, section_names(ordered), strict=True):
        for clause in visible_clauses(section.clauses.all(), role_kinds):
            items.append(_Item(index=len(items), clause=clause, section=section, section_name=name))
    return items


# ---------------------------------------------------------------------------
# Pairing
# ---------------------------------------------------------------------------


def _pair_by_key(old: Sequence[_Item], new: Sequence[_Item], pairs: dict[int, int]) -> None:
    by_key: dict[str, list[_Item]] = defaultdict(list)
    for item in old:
        by_key[item.clause.key].append(item)
    for item in new:
        candidates = by_key.get(item.clause.key)
        if candidates:
            pairs[item.index] = candidates.pop(0).index


def _pair_by_wording(old: Sequence[_Item], new: Sequence[_Item], pairs: dict[int, int]) -> None:
    taken = set(pairs.values())
    by_text: dict[str, list[_Item]] = defaultdict(list)
    for item in old:
        if item.index not in taken:
            by_text[item.normalised].append(item)
    for item in new:
        if item.index in pairs:
            continue
        candidates = by_text.get(item.normalised)
        if candidates:
            pairs[item.index] = candidates.pop(0).index


def _pair_by_similarity(old: Sequence[_Item], new: Sequence[_Item], pairs: dict[int, int]) -> None:
    """Greedy best-first pairing of what is left, pruning with difflib's cheap upper bounds."""
    taken = set(pairs.values())
    old_left = [item for item in old if item.index not in taken]
    new_left = [item for item in new if item.index not in pairs]
    if not old_left or not new_left:
        return
    scored: list[tuple[float, int, int, int]] = []  # (-similarity, distance, new index, old index)
    for new_item in new_left:
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(new_item.normalised)
        for old_item in old_left:
            matcher.set_seq1(old_item.normalised)
            if matcher.real_quick_ratio() < SIMILARITY_THRESHOLD or matcher.quick_ratio() < SIMILARITY_THRESHOLD:
                continue
            ratio = matcher.ratio()
            if ratio >= SIMILARITY_THRESHOLD:
                # Ties go to the clause nearest in reading order.
                scored.append((-ratio, abs(new_item.index - old_item.index), new_item.index, old_item.index))
    used_old: set[int] = set()
    for _score, _distance, new_index, old_index in sorted(scored):
        if new_index in pairs or old_index in used_old:
            continue
        pairs[new_index] = old_index
        used_old.add(old_index)


def _in_order(pairs: dict[int, int]) -> set[int]:
    """New indices of the pairs that keep their relative order (a longest increasing subsequence).

    The rest are the clauses that moved. Patience sorting: O(n log n).
    """
    ordered = sorted(pairs.items())  # by new index
    tails: list[int] = []  # old index at the tail of each increasing run length
    tail_at: list[int] = []  # position in ``ordered`` of that tail
    previous: list[int] = [-1] * len(ordered)
    for position, (_new_index, old_index) in enumerate(ordered):
        length = bisect.bisect_left(tails, old_index)
        if length == len(tails):
            tails.append(old_index)
            tail_at.append(position)
        else:
            tails[length] = old_index
            tail_at[length] = position
        previous[position] = tail_at[length - 1] if length else -1
    keep: set[int] = set()
    position = tail_at[-1] if tail_at else -1
    while position != -1:
        keep.add(ordered[position][0])
        position = previous[position]
    return keep


# ---------------------------------------------------------------------------
# Word-level highlighting
# ---------------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def word_diff_html(old_text: str, new_text: str) -> SafeString:
    """``new_text`` with what was removed in ``<del>`` and what was added in ``<ins>``, word by word.

    Short stretches of unchanged words between two edits are folded into the
    edits (the "semantic clean-up" of diff-match-patch: an equality no longer
    than the edits either side of it), so a reworded phrase reads as one
    deletion followed by one insertion rather than a stutter of one-word changes.
    """
    old_tokens, new_tokens = _tokens(old_text), _tokens(new_text)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    runs: list[_Run] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        _append_run(runs, _Run(tag != "equal", "".join(old_tokens[i1:i2]), "".join(new_tokens[j1:j2])))
    runs = _fold_short_equalities(runs)
    out: list[str] = []
    for run in runs:
        if not run.edit:
            out.append(escape(run.new))
            continue
        if run.old.strip():
            out.append(format_html("<del>{}</del>", run.old))
        if run.new.strip():
            out.append(format_html("<ins>{}</ins>", run.new))
        elif run.new:
            out.append(escape(run.new))
    return mark_safe("".join(out))


@dataclass
class _Run:
    edit: bool
    old: str
    new: str

    @property
    def size(self) -> int:
        return max(len(self.old), len(self.new))


def _append_run(runs: list[_Run], run: _Run) -> None:
    if runs and runs[-1].edit and run.edit:
        runs[-1].old += run.old
        runs[-1].new += run.new
    elif run.old or run.new:
        runs.append(run)


def _fold_short_equalities(runs: list[_Run]) -> list[_Run]:
    folded = True
    while folded:
        folded = False
        for index in range(1, len(runs) - 1):
            before, equal, after = runs[index - 1], runs[index], runs[index + 1]
            if before.edit and not equal.edit and after.edit and len(equal.new) <= min(before.size, after.size):
                merged = _Run(True, before.old + equal.old + after.old, before.new + equal.new + after.new)
                runs = runs[: index - 1] + [merged] + runs[index + 2 :]
                folded = True
                break
    return runs


def _whole(tag: str, text: str) -> SafeString:
    return format_html("<{}>{}</{}>", tag, text, tag)


def _role_note(old: Clause, new: Clause) -> tuple[str, ...]:
    if sorted(old.roles or []) == sorted(new.roles or []):
        return ()

    def who(roles: Iterable[str]) -> str:
        roles = list(roles or [])
        return ", ".join(role_label_plural(kind) for kind in roles) + " only" if roles else "everyone"

    return (f"Now applies to {who(new.roles)} (was {who(old.roles)}).",)


# ---------------------------------------------------------------------------
# The diff
# ---------------------------------------------------------------------------


def diff_versions(
    old: CodeVersion,
    new: CodeVersion,
    *,
    role_kinds: set[str] | None = None,
    new_sections: Iterable[Section] | None = None,
) -> VersionDiff:
    """Every clause of ``new`` and every clause dropped from ``old``, in reading order, with what happened to it.

    ``role_kinds`` limits both versions to what a reader holding those roles
    sees (None: every clause), so a governor is not told about a change to a
    trustees-only statement. Four queries; two when the caller has ``new``'s
    sections (``ordered_sections()``) already.
    """
    old_items, new_items = _items(old, role_kinds), _items(new, role_kinds, new_sections)
    pairs: dict[int, int] = {}  # new index -> old index
    _pair_by_key(old_items, new_items, pairs)
    _pair_by_wording(old_items, new_items, pairs)
    _pair_by_similarity(old_items, new_items, pairs)
    section_pairs = _section_pairs(old_items, new_items, pairs)
    # Clauses that changed section have moved whatever their order; the rest moved if they left the order.
    in_order = _in_order(
        {n: o for n, o in pairs.items() if section_pairs.get(old_items[o].section.pk) == new_items[n].section.pk}
    )

    changes: list[ClauseChange] = []
    paired_old = set(pairs.values())
    removed = [item for item in old_items if item.index not in paired_old]
    removed_at = 0

    def flush_removed(before_old_index: int) -> None:
        nonlocal removed_at
        while removed_at < len(removed) and removed[removed_at].index < before_old_index:
            item = removed[removed_at]
            changes.append(
                ClauseChange(
                    kind="removed",
                    old=item.clause,
                    new=None,
                    section=item.section_name,
                    html=_whole("del", item.wording),
                )
            )
            removed_at += 1

    for item in new_items:
        old_index = pairs.get(item.index)
        if old_index is None:
            changes.append(
                ClauseChange(
                    kind="added",
                    old=None,
                    new=item.clause,
                    section=item.section_name,
                    html=_whole("ins", item.wording),
                )
            )
            continue
        old_item = old_items[old_index]
        same_section = section_pairs.get(old_item.section.pk) == item.section.pk
        moved = item.index not in in_order or not same_section
        if item.index in in_order:
            flush_removed(old_index)
        reworded = " ".join(old_item.wording.split()) != " ".join(item.wording.split())
        notes = _role_note(old_item.clause, item.clause)
        if moved:
            notes = (
                (f"Moved from “{old_item.section_name}”.",) + notes
                if not same_section
                else ("Moved within the section.",) + notes
            )
        if reworded:
            kind: ChangeKind = "changed"
            html = word_diff_html(old_item.wording, item.wording)
        else:
            kind = "moved" if moved else ("changed" if notes else "unchanged")
            html = escape(item.wording)
        changes.append(
            ClauseChange(
                kind=kind,
                old=old_item.clause,
                new=item.clause,
                section=item.section_name,
                html=mark_safe(html),
                old_section=old_item.section_name if not same_section else "",
                notes=notes,
            )
        )
    flush_removed(len(old_items) + 1)
    return VersionDiff(old=old, new=new, changes=changes)


def _section_pairs(old_items: Sequence[_Item], new_items: Sequence[_Item], pairs: dict[int, int]) -> dict[int, int]:
    """Old section id -> new section id: by key, else by title, else where most of its clauses went."""
    old_sections = {item.section.pk: item.section for item in old_items}
    new_sections = {item.section.pk: item.section for item in new_items}
    mapping: dict[int, int] = {}
    new_by_key = {section.key: pk for pk, section in new_sections.items()}
    new_by_title = defaultdict(list)
    for pk, section in new_sections.items():
        new_by_title[(section.number, normalise(section.title))].append(pk)
    for pk, section in old_sections.items():
        if section.key in new_by_key:
            mapping[pk] = new_by_key[section.key]
        elif new_by_title.get((section.number, normalise(section.title))):
            mapping[pk] = new_by_title[(section.number, normalise(section.title))][0]
    votes: dict[int, Counter] = defaultdict(Counter)
    for new_index, old_index in pairs.items():
        old_section = old_items[old_index].section.pk
        if old_section not in mapping:
            votes[old_section][new_items[new_index].section.pk] += 1
    for old_section, counter in votes.items():
        mapping[old_section] = counter.most_common(1)[0][0]
    return mapping
