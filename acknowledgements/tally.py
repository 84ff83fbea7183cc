"""The obligation tally (``ObligationTally``): checked against the obligations, and repaired.

Database triggers (migration 0013) keep the tally equal to a GROUP BY of the obligations; the dashboard, its
drill-down count and the code history read it instead of scanning the obligations. A change the triggers did not
see (a trigger dropped or disabled for a bulk load, a restore of one table) would leave those numbers wrong for
ever, so ``tally_check`` recomputes the GROUP BY here, with the ORM (not the triggers' SQL), and repairs what
differs; ``manage.py tally_check`` runs it, and so does a nightly task.

The difference is read in one statement (one snapshot), and repaired by adding it to the rows: a signature
committed meanwhile moved both the obligations and the tally by the same amount, so the difference stays what
it was and the repair cannot undo it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.db import connections, router, transaction
from django.db.models import Count, DateField, F, Value
from django.db.models.functions import Coalesce, TruncDate

from acknowledgements.models import NEVER, Obligation, ObligationTally

logger = logging.getLogger(__name__)

KEY = (
    "version_id",
    "organisation_id",
    "role_kind",
    "adoption_id",
    "code_id",
    "owed_from",
    "ends_on",
    "superseded_on",
    "signed_on",
    "due_on",
)


@dataclass(frozen=True, slots=True)
class TallyDifference:
    """One key whose tally differs from the obligations: ``missing`` obligations more than the tally counts
    (negative when the tally counts too many)."""

    key: tuple
    missing: int


def _never(expression) -> Coalesce:
    return Coalesce(expression, Value(NEVER), output_field=DateField())


def expected_tally():
    """The tally as it should be: the obligations grouped by the tally's key (one query)."""
    return (
        Obligation.objects.order_by()
        .annotate(
            role_kind=F("role__kind"),
            ends_on=_never(F("role__ends_on")),
            superseded_on=_never(TruncDate("superseded_at")),
            signed_on=_never(TruncDate("acknowledged_at")),
        )
        .values(*KEY)
        .annotate(n=Count("pk"))
    )


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def tally_differences() -> list[TallyDifference]:
    """Every key where the tally and the obligations disagree, read in one statement."""
    expected = expected_tally()
    inner, params = expected.query.sql_with_params()
    table = ObligationTally._meta.db_table
    key = ", ".join(KEY)
    sql = (
        f"WITH expected AS ({inner}), both_sides AS (SELECT {key}, n FROM expected "
        f"UNION ALL SELECT {key}, -n FROM {table}) "
        f"SELECT {key}, SUM(n) FROM both_sides GROUP BY {key} HAVING SUM(n) <> 0"
    )
    with connections[expected.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    dates = {KEY.index(name) for name in ("owed_from", "ends_on", "superseded_on", "signed_on", "due_on")}
    return [
        TallyDifference(
            key=tuple(_as_date(value) if index in dates else value for index, value in enumerate(row[:-1])),
            missing=int(row[-1]),  # PostgreSQL sums integers as numeric
        )
        for row in rows
    ]


def tally_repair(differences: list[TallyDifference]) -> None:
    """Add each difference to its row (created if missing), then delete the rows left at 0."""
    table = ObligationTally._meta.db_table
    key = ", ".join(KEY)
    placeholders = ", ".join(["%s"] * (len(KEY) + 1))
    sql = (
        f"INSERT INTO {table} AS t ({key}, n) VALUES ({placeholders}) "
        f"ON CONFLICT ({key}) DO UPDATE SET n = t.n + excluded.n"
    )
    alias = router.db_for_write(ObligationTally)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        # In key order, as the triggers take the rows, so a repair and a signature never wait on each other in a cycle.
        rows = sorted((*difference.key, difference.missing) for difference in differences)
        cursor.executemany(sql, rows)
        ObligationTally.objects.using(alias).filter(n=0).delete()


def tally_check(*, repair: bool) -> list[TallyDifference]:
    """The differences found (logged as an error: the triggers missed a change), repaired if ``repair``."""
    differences = tally_differences()
    if differences:
        logger.error(
            "Obligation tally differs from the obligations at %d keys (%d obligations)%s",
            len(differences),
            sum(abs(d.missing) for d in differences),
            "; repaired" if repair else "",
        )
        if repair:
            tally_repair(differences)
    return differences
