from django.urls import path  # noqa: F401  (the erasure pages add their routes here)

app_name = "privacy"

urlpatterns: list = []
