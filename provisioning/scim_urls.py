"""``/scim/v2/``: SCIM 2.0 for identity providers (see provisioning.scim_views)."""

from django.urls import path, re_path

from provisioning import scim_views as views

app_name = "scim"

urlpatterns = [
    path("", views.not_found, name="root"),
    path("ServiceProviderConfig", views.service_provider_config, name="service_provider_config"),
    path("ResourceTypes", views.resource_types, name="resource_types"),
    path("ResourceTypes/<str:resource_id>", views.resource_type, name="resource_type"),
    path("Schemas", views.schemas, name="schemas"),
    path("Schemas/<str:resource_id>", views.schema, name="schema"),
    path("Users", views.users, name="users"),
    path("Users/<str:resource_id>", views.user, name="user"),
    path("Groups", views.groups, name="groups"),
    path("Groups/<str:resource_id>", views.group, name="group"),
    path(".search", views.search, name="search"),
    re_path(r"^(?P<rest>.+)$", views.not_found, name="not_found"),
]
