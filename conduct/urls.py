from django.urls import path

from conduct import views

app_name = "conduct"

urlpatterns = [
    path("codes/<slug:slug>/", views.code_detail, name="code"),
    path("codes/<slug:slug>/versions/<int:pk>/", views.version_detail, name="version"),
]
