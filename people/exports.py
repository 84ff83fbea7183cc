"""The people pages' tables as files, through reports' export code (one list of columns for CSV and XLSX)."""

from __future__ import annotations

import json

from reports.exports import Column, local_iso, local_naive

DIRECTORY_COLUMNS = [
    Column("Name", "Full name as on record.", 28, lambda r: r.person.full_name),
    Column("Email", "Email address they sign in with.", 32, lambda r: r.person.email),
    Column(
        "Roles",
        "Their roles in the organisations you manage (within the filter): role, title, where, from and to.",
        60,
        lambda r: r.roles_text,
    ),
    Column("Overdue", "How many signatures they owe that are past their due date.", 9, lambda r: r.overdue),
    Column(
        "Invitation",
        "Accepted, Not yet accepted, or blank if never invited.",
        16,
        lambda r: {"accepted": "Accepted", "pending": "Not yet accepted"}.get(r.invitation, ""),
    ),
    Column(
        "Last signed in (Europe/London)",
        "When they last signed in, London time; blank if never.",
        22,
        lambda r: local_iso(r.person.last_login),
        xlsx_value=lambda r: local_naive(r.person.last_login),
    ),
    Column(
        "Account",
        "Active, or Deactivated (cannot sign in).",
        12,
        lambda r: "Active" if r.person.is_active else "Deactivated",
    ),
]

GIAS_COLUMNS = [
    Column("Role", "The governance role in the words GIAS uses.", 30, lambda r: r.gias_role),
    Column("Forename(s)", "All but the last word of the name on record.", 20, lambda r: r.forenames),
    Column("Surname", "The last word of the name on record.", 20, lambda r: r.surname),
    Column("Full name", "The name on record.", 28, lambda r: r.role.person.full_name),
    Column(
        "Governor category",
        "Appointed, parent, staff, co-opted, foundation, ex officio or member.",
        16,
        lambda r: r.role.get_category_display() if r.role.category else "",
    ),
    Column("Appointing body", "The body that appointed them.", 28, lambda r: r.role.appointed_by),
    Column("Date of appointment", "The start of this term of office.", 14, lambda r: r.role.starts_on),
    Column("Date term of office ends", "When the term of office ends, if set.", 14, lambda r: r.role.term_ends_on),
    Column("Date stepped down", "Their last day, if they have stepped down.", 14, lambda r: r.role.ends_on),
    Column("Reason stepped down", "As the officer recorded it.", 28, lambda r: r.role.end_reason),
]

AUDIT_COLUMNS = [
    Column(
        "At (Europe/London)",
        "When it was done, London time.",
        22,
        lambda e: local_iso(e.at),
        xlsx_value=lambda e: local_naive(e.at),
    ),
    Column("Action", "What kind of change.", 28, lambda e: e.get_action_display()),
    Column(
        "Done by",
        "The officer (blank: the platform operator or a provisioning token).",
        28,
        lambda e: e.actor.full_name if e.actor else "",
    ),
    Column("Done by (email)", "", 32, lambda e: e.actor.email if e.actor else ""),
    Column("About", "The person the change is about, if any.", 28, lambda e: e.subject.full_name if e.subject else ""),
    Column("Organisation", "Where it was filed.", 28, lambda e: e.organisation.name if e.organisation else ""),
    Column("Summary", "What was done, in words.", 60, lambda e: e.summary),
    Column("Address", "The address the request came from.", 18, lambda e: e.ip_address or ""),
    Column(
        "Changed row",
        "The model and id of the row changed.",
        24,
        lambda e: f"{e.target_type}:{e.target_id}" if e.target_type else "",
    ),
    Column(
        "Channel",
        "web, csv, scim or command.",
        10,
        lambda e: (e.details or {}).get("via", "") if isinstance(e.details, dict) else "",
    ),
    Column(
        "Details (JSON)",
        'What changed, usually {"before": ..., "after": ...}, as recorded.',
        60,
        lambda e: json.dumps(e.details, sort_keys=True, ensure_ascii=False),
    ),
]
