from django.urls import path

from acknowledgements.views import bundles, declarations, invitations, paper, reading, records, verification

app_name = "acknowledgements"

urlpatterns = [
    path("my-codes/", reading.my_codes, name="my_codes"),
    path("codes/<slug:slug>/", reading.code_detail, name="code"),
    path("codes/<slug:slug>/versions/<int:pk>/", reading.version_detail, name="version"),
    path("codes/<slug:slug>/versions/<int:pk>/sign/", reading.sign, name="sign"),
    path("records/<int:pk>/", records.record, name="record"),
    path("records/<int:pk>/pdf/", records.pdf, name="pdf"),
    path("records/<int:pk>/pdf/status/", records.pdf_status, name="pdf_status"),
    path("records/<int:pk>/scan/", records.scan, name="scan"),
    path("records/<int:pk>/evidence.json", bundles.acknowledgement_evidence_bundle, name="evidence_bundle"),
    path("adoptions/<int:pk>/evidence.json", bundles.adoption_evidence_bundle, name="adoption_evidence_bundle"),
    path("records/<int:pk>/correct/", paper.correct, name="correct"),
    path("adoptions/<int:pk>/certificate.pdf", records.adoption_certificate, name="adoption_certificate"),
    path(
        "adoptions/<int:pk>/certificate/status/",
        records.adoption_certificate_status,
        name="adoption_certificate_status",
    ),
    path("paper-signatures/", paper.paper, name="paper"),
    path("paper-signatures/<int:pk>/", paper.record_paper, name="record_paper"),
    path("declarations/", declarations.declare, name="declare"),
    path("people/invite/", invitations.invite, name="invite"),
    path("people/import/", invitations.import_people, name="import"),
    path("people/import/template.csv", invitations.import_template, name="import_template"),
    path("people/invitations/", invitations.invitations, name="invitations"),
    path("people/invitations/<int:pk>/resend/", invitations.invitation_resend_view, name="invitation_resend"),
    path("verify/", verification.verify, name="verify"),
]
