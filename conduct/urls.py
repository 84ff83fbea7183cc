from django.urls import path

from conduct import (
    views_adoption,
    views_attachments,
    views_branding,
    views_drafting,
    views_importing,
    views_organisations,
)

app_name = "conduct"

draft = "codes/<slug:slug>/drafts/<int:pk>/"
organisation = "organisations/<slug:slug>/"
imported = "governance/imports/<slug:import_id>/"
imported_clause = imported + "clauses/<int:section>/<int:position>/"

urlpatterns = [
    # Issue 4: drafting, comparing, meetings, adoption and history.
    path("governance/", views_adoption.governance, name="governance"),
    path("governance/codes/new/", views_drafting.code_create, name="code_create"),
    path("codes/<slug:slug>/history/", views_adoption.code_history, name="code_history"),
    path("codes/<slug:slug>/settings/", views_drafting.code_settings, name="code_settings"),
    path("codes/<slug:slug>/compare/", views_drafting.version_compare, name="version_compare"),
    path("codes/<slug:slug>/drafts/new/", views_drafting.draft_start, name="draft_start"),
    path(draft, views_drafting.draft_edit, name="draft_edit"),
    path(draft + "preview/", views_drafting.draft_preview, name="draft_preview"),
    path(draft + "details/", views_drafting.draft_details, name="draft_details"),
    path(draft + "discard/", views_drafting.draft_discard, name="draft_discard"),
    path(draft + "files/", views_attachments.draft_files, name="draft_files"),
    path(draft + "files/<int:attachment_id>/remove/", views_attachments.draft_file_remove, name="draft_file_remove"),
    path(
        "codes/<slug:slug>/versions/<int:pk>/files/<int:attachment_id>/",
        views_attachments.version_file,
        name="version_file",
    ),
    path(draft + "sections/add/", views_drafting.section_add, name="section_add"),
    path(draft + "sections/<int:section_id>/edit/", views_drafting.section_edit, name="section_edit"),
    path(draft + "sections/<int:section_id>/move/", views_drafting.section_move, name="section_move"),
    path(draft + "sections/<int:section_id>/remove/", views_drafting.section_remove, name="section_remove"),
    path(draft + "sections/<int:section_id>/clauses/add/", views_drafting.clause_add, name="clause_add"),
    path(draft + "clauses/<int:clause_id>/edit/", views_drafting.clause_edit, name="clause_edit"),
    path(draft + "clauses/<int:clause_id>/move/", views_drafting.clause_move, name="clause_move"),
    path(draft + "clauses/<int:clause_id>/remove/", views_drafting.clause_remove, name="clause_remove"),
    # Importing a code's text from a Word document or pasted text, for a new code or a draft.
    path("governance/codes/new/import/word/", views_importing.new_code_from_word, name="import_word"),
    path("governance/codes/new/import/text/", views_importing.new_code_from_text, name="import_text"),
    path(draft + "import/word/", views_importing.draft_from_word, name="draft_import_word"),
    path(draft + "import/text/", views_importing.draft_from_text, name="draft_import_text"),
    path(imported, views_importing.import_preview, name="import_preview"),
    path(imported + "create/", views_importing.import_create, name="import_create"),
    path(imported + "replace/", views_importing.import_replace, name="import_replace"),
    path(imported_clause, views_importing.import_clause, name="import_clause"),
    path(imported_clause + "merge/", views_importing.import_clause_merge, name="import_clause_merge"),
    path(imported_clause + "split/", views_importing.import_clause_split, name="import_clause_split"),
    path(imported_clause + "mark/", views_importing.import_clause_mark, name="import_clause_mark"),
    path("codes/<slug:slug>/versions/<int:pk>/adopt/", views_adoption.adoption_start, name="adoption_start"),
    path("codes/<slug:slug>/versions/<int:pk>/adopt/<slug:board_slug>/", views_adoption.adoption_create, name="adopt"),
    path("adoptions/<int:pk>/", views_adoption.adoption_detail, name="adoption"),
    path("boards/<slug:slug>/meetings/", views_adoption.board_meetings, name="board_meetings"),
    path("boards/<slug:slug>/meetings/new/", views_adoption.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views_adoption.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/edit/", views_adoption.meeting_edit, name="meeting_edit"),
    # Setting organisations up: the tree, changes to it, network memberships and the officers' audit log.
    path("organisations/", views_organisations.organisation_tree, name="organisations"),
    path(organisation + "add/", views_organisations.organisation_add, name="organisation_add"),
    path(organisation + "rename/", views_organisations.organisation_rename, name="organisation_rename"),
    path(organisation + "move/", views_organisations.organisation_move, name="organisation_move"),
    path(organisation + "close/", views_organisations.organisation_close, name="organisation_close"),
    path(organisation + "members/", views_organisations.network_members, name="network_members"),
    path(organisation + "members/invite/", views_organisations.network_invite, name="network_invite"),
    path(organisation + "audit-log/", views_organisations.audit_log, name="audit_log"),
    path(organisation + "branding/", views_branding.branding_edit, name="branding_edit"),
    path("branding/<slug:slug>.css", views_branding.branding_stylesheet, name="branding_css"),
    path("branding/<slug:slug>/logo", views_branding.branding_logo, name="branding_logo"),
    path("memberships/<int:pk>/accept/", views_organisations.membership_accept, name="membership_accept"),
    path("memberships/<int:pk>/end/", views_organisations.membership_end, name="membership_end"),
]
