from django.http import HttpResponse
from django.test import RequestFactory

from core.request_meta import ClientAddressMiddleware, current_client_ip


def test_services_see_the_request_address_only_while_it_is_served():
    seen = []

    def view(request):
        seen.append(current_client_ip())
        return HttpResponse("ok")

    ClientAddressMiddleware(view)(RequestFactory().get("/", REMOTE_ADDR="203.0.113.9"))

    assert seen == ["203.0.113.9"]
    assert current_client_ip() is None
