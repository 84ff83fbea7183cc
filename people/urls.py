from django.urls import path

from people import views

app_name = "people"

urlpatterns = [
    path("", views.directory_view, name="directory"),
    path("export.<slug:fmt>", views.directory_export, name="export"),
    path("gias.csv", views.gias_export, name="gias"),
    path("audit/", views.audit_view, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("<int:pk>/", views.person_view, name="person"),
    path("<int:pk>/details/", views.person_edit, name="edit"),
    path("<int:pk>/account/<slug:change>/", views.person_account, name="account"),
    path("<int:pk>/leaver/", views.person_leaver_view, name="leaver"),
    path("<int:pk>/roles/add/", views.role_add_view, name="role_add"),
    path("<int:pk>/roles/<int:role_pk>/end/", views.role_end_view, name="role_end"),
    path("<int:pk>/roles/<int:role_pk>/details/", views.role_edit_view, name="role_edit"),
    path("<int:pk>/roles/<int:role_pk>/move/", views.role_move_view, name="role_move"),
]
