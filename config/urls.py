from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from acknowledgements.views import reading
from conduct.views_invitation_link import invitation_link
from core.admin_login import admin_login_through_allauth
from reports import views as reports_views

admin.site.site_header = "Codes of Conduct administration"
admin.site.site_title = "Codes of Conduct admin"
# The admin signs in through allauth (rate limits, two-factor), never Django's bare password form.
admin.site.login = admin_login_through_allauth(admin.site)  # type: ignore[method-assign]

urlpatterns = [
    path("", reading.home, name="home"),
    # The accessibility statement (Public Sector Bodies Accessibility Regulations 2018), linked from every footer.
    path("accessibility/", TemplateView.as_view(template_name="accessibility.html"), name="accessibility"),
    path("", include("conduct.urls")),
    path("", include("acknowledgements.urls")),
    path("accounts/invitation/<str:uidb36>/<str:key>/", invitation_link, name="invitation_link"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("reports/", include("reports.urls")),
    path("organisations/<slug:slug>/governance/", reports_views.governance_page, name="public_governance"),
    path("reminders/", include("reminders.urls")),
    path("people/", include("people.urls")),
    path("provisioning/", include("provisioning.urls")),
    path("privacy/", include("privacy.urls")),
    path("scim/v2/", include("provisioning.scim_urls")),
]
