from django.urls import path  # the erasure pages add their routes here

from privacy import views, views_retention

app_name = "privacy"

urlpatterns: list = [
    path("retention/", views_retention.retention_view, name="retention"),
    path("people/<int:pk>/erase/", views.erase_view, name="erase"),
    path("people/<int:pk>/legal-hold/<str:change>/", views.hold_view, name="hold"),
]
