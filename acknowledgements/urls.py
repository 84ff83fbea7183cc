from django.urls import path

from acknowledgements import views

app_name = "acknowledgements"

urlpatterns = [
    path("my-codes/", views.my_codes, name="my_codes"),
    path("codes/<slug:slug>/versions/<int:pk>/sign/", views.sign, name="sign"),
    path("records/<int:pk>/", views.record, name="record"),
    path("records/<int:pk>/pdf/", views.pdf, name="pdf"),
    path("records/<int:pk>/pdf/status/", views.pdf_status, name="pdf_status"),
    path("records/<int:pk>/scan/", views.scan, name="scan"),
    path("records/<int:pk>/correct/", views.correct, name="correct"),
    path("paper-signatures/", views.paper, name="paper"),
    path("paper-signatures/<int:pk>/", views.record_paper, name="record_paper"),
    path("declarations/", views.declare, name="declare"),
    path("people/invite/", views.invite, name="invite"),
    path("people/import/", views.import_people, name="import"),
    path("people/invitations/", views.invitations, name="invitations"),
    path("people/invitations/<int:pk>/resend/", views.invitation_resend_view, name="invitation_resend"),
    path("verify/", views.verify, name="verify"),
]
