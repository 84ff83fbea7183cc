from django.urls import path

from reminders import views

app_name = "reminders"

urlpatterns = [
    path("", views.index, name="index"),
    path("codes/<slug:slug>/", views.code_steps, name="code_steps"),
    path("log/", views.log, name="log"),
]
