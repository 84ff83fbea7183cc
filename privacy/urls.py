from django.urls import path  # the erasure pages add their routes here

from privacy import views_retention

app_name = "privacy"

urlpatterns: list = [
    path("retention/", views_retention.retention_view, name="retention"),
]
