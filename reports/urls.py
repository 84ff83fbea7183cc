from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("people/", views.people_view, name="people"),
    path("people/remind-now/", views.remind_now_view, name="remind_now"),
    path("export/<slug:table>.<slug:fmt>", views.export_view, name="export"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/start/<slug:kind>/", views.job_start, name="job_start"),
    path("jobs/<uuid:public_id>/", views.job_detail, name="job"),
    path("jobs/<uuid:public_id>/status/", views.job_status, name="job_status"),
    path("jobs/<uuid:public_id>/download/", views.job_download, name="job_download"),
    path("register/", views.register_view, name="register"),
    path("register/export.<slug:fmt>", views.register_export, name="register_export"),
    path("register/<int:pk>/publication/", views.register_publication, name="register_publication"),
]
