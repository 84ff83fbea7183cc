from django.contrib import admin
from django.urls import include, path

from conduct import views as conduct_views

admin.site.site_header = "Codes of Conduct administration"
admin.site.site_title = "Codes of Conduct admin"

urlpatterns = [
    path("", conduct_views.home, name="home"),
    path("", include("conduct.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("reminders/", include("acknowledgements.reminders.urls")),
]
