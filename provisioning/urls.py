"""The admins' provisioning pages: tokens for SCIM, and roster sync from a file."""

from django.urls import path

from provisioning import views

app_name = "provisioning"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/tokens/", views.tokens_page, name="tokens"),
    path("<slug:slug>/tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("<slug:slug>/roster/", views.roster_upload, name="roster"),
    path("<slug:slug>/roster/<int:pk>/", views.roster_preview, name="roster_preview"),
]
