"""The SCIM 2.0 HTTP endpoints under ``/scim/v2/``: a bearer token in, ``application/scim+json`` out.

Each view: the token (401 without a valid one), the body parsed by scim2-models, one call into
``provisioning.scim``, a SCIM response. Every refusal is a SCIM error response (RFC 7644 §3.12):
400 ``invalidSyntax``/``invalidValue``/``invalidFilter``, 401, 403, 404 (including anything
outside the token's organisation, which it cannot see), 405, 409 ``uniqueness``, 413, 501.
CSRF does not apply: there is no session, only the bearer token.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError as PydanticValidationError
from scim2_models import (
    Context,
    Error,
    InvalidSyntaxException,
    InvalidValueException,
    ListResponse,
    NotFoundException,
    PatchOp,
    PayloadTooLargeException,
    SCIMException,
)

from provisioning import scim
from provisioning.models import ProvisioningToken
from provisioning.tokens import token_authenticate

WRITE_METHODS = ("POST", "PUT", "PATCH")


def _json(data: Any, status: int = 200, *, location: str | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data), status=status, content_type=scim.SCIM_CONTENT_TYPE)
    if location:
        response["Location"] = location
    return response


def error_response(status: int, detail: str, scim_type: str | None = None) -> HttpResponse:
    error = Error(status=status, scim_type=scim_type, detail=detail)
    response = _json(error.model_dump(), status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="scim"'
    return response


def _error(error: Error) -> HttpResponse:
    status = int(error.status or 400)
    response = _json(error.model_dump(), status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="scim"'
    return response


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("scim:root"))


Handler = Callable[..., HttpResponse]


def scim_endpoint(methods: tuple[str, ...]) -> Callable[[Handler], Handler]:
    """Authenticate the bearer token, parse the JSON body, and turn every refusal into a SCIM error."""

    def decorate(view: Handler) -> Handler:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            header = request.headers.get("Authorization", "")
            kind, _, secret = header.partition(" ")
            token = token_authenticate(secret.strip()) if kind.lower() == "bearer" else None
            if token is None:
                return error_response(401, "A valid provisioning token is required (Authorization: Bearer …).")
            if request.method not in methods:
                return error_response(405, f"{request.method} is not supported here.")
            try:
                body: Any = None
                if request.method in WRITE_METHODS:
                    try:
                        raw = request.body
                    except RequestDataTooBig:
                        raise PayloadTooLargeException(detail="The request body is too large.") from None
                    try:
                        body = json.loads(raw.decode("utf-8")) if raw else None
                    except (UnicodeDecodeError, ValueError, RecursionError):
                        raise InvalidSyntaxException(detail="The request body is not valid JSON.") from None
                    if not isinstance(body, dict):
                        raise InvalidSyntaxException(detail="The request body must be a JSON object.")
                    if _has_nul(body):
                        raise InvalidValueException(detail="Text in the request may not contain NUL characters.")
                return view(request, token, body, *args, **kwargs)
            except SCIMException as exception:
                return _error(exception.to_error())
            except PydanticValidationError as exception:
                errors = Error.from_validation_errors(exception)
                return _error(errors[0]) if errors else error_response(400, "Invalid request.", "invalidValue")
            except ValidationError as exception:
                return error_response(400, " ".join(exception.messages), "invalidValue")
            except PermissionDenied as exception:
                return error_response(403, str(exception) or "Not allowed with this token.")

        return wrapped

    return decorate


def _has_nul(body: Any) -> bool:
    """A NUL anywhere in a JSON body: PostgreSQL stores it in neither text nor jsonb (a 500 if it got that far).

    A loop, not recursion: the body may nest as deep as the JSON parser allowed.
    """
    pending = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value
    return False


def _query(request: HttpRequest) -> dict[str, Any]:
    return {key: request.GET.get(key) for key in request.GET}


# ---------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------


@scim_endpoint(("GET",))
def service_provider_config(request: HttpRequest, token: ProvisioningToken, body: Any) -> HttpResponse:
    return _json(scim.service_provider_config(base_url(request)).model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _listed(resources: list[Any]) -> dict[str, Any]:
    response = ListResponse[type(resources[0])](  # type: ignore[misc, operator]
        total_results=len(resources), start_index=1, items_per_page=len(resources), resources=resources
    )
    return response.model_dump(scim_ctx=Context.SEARCH_RESPONSE)


@scim_endpoint(("GET",))
def resource_types(request: HttpRequest, token: ProvisioningToken, body: Any) -> HttpResponse:
    return _json(_listed(scim.resource_types(base_url(request))))


@scim_endpoint(("GET",))
def resource_type(request: HttpRequest, token: ProvisioningToken, body: Any, resource_id: str) -> HttpResponse:
    found = next((t for t in scim.resource_types(base_url(request)) if t.id == resource_id), None)
    if found is None:
        raise NotFoundException(detail=f"No resource type {resource_id!r}.")
    return _json(found.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


@scim_endpoint(("GET",))
def schemas(request: HttpRequest, token: ProvisioningToken, body: Any) -> HttpResponse:
    return _json(_listed(scim.schemas(base_url(request), token)))


@scim_endpoint(("GET",))
def schema(request: HttpRequest, token: ProvisioningToken, body: Any, resource_id: str) -> HttpResponse:
    found = next((s for s in scim.schemas(base_url(request), token) if s.id == resource_id), None)
    if found is None:
        raise NotFoundException(detail=f"No schema {resource_id!r}.")
    return _json(found.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------


@scim_endpoint(("GET", "POST"))
def users(request: HttpRequest, token: ProvisioningToken, body: Any) -> HttpResponse:
    if request.method == "POST":
        user = scim.parse(scim.UserResource, body, Context.RESOURCE_CREATION_REQUEST)
        identity = scim.user_create(token, user)
        created = scim.user_resource(identity, base_url(request))
        return _json(
            scim.dump(created, Context.RESOURCE_CREATION_RESPONSE, _query(request)),
            201,
            location=created.meta.location if created.meta else None,
        )
    search = scim.search_request(scim.UserResource, _query(request))
    return _json(scim.users_list(token, search, base_url(request)))


@scim_endpoint(("GET", "PUT", "PATCH", "DELETE"))
def user(request: HttpRequest, token: ProvisioningToken, body: Any, resource_id: str) -> HttpResponse:
    if request.method == "DELETE":
        scim.user_delete(token, resource_id)
        return HttpResponse(status=204)
    if request.method == "PUT":
        replacement = scim.parse(scim.UserResource, body, Context.RESOURCE_REPLACEMENT_REQUEST)
        identity = scim.user_replace(token, resource_id, replacement)
        context = Context.RESOURCE_REPLACEMENT_RESPONSE
    elif request.method == "PATCH":
        patch = scim.parse(PatchOp[scim.UserResource], body, Context.RESOURCE_PATCH_REQUEST)
        identity = scim.user_patch(token, resource_id, patch, base_url(request))
        context = Context.RESOURCE_PATCH_RESPONSE
    else:
        scim.search_request(scim.UserResource, _query(request))  # attributes/excludedAttributes must be valid
        identity = scim.identity_get(token, resource_id)
        context = Context.RESOURCE_QUERY_RESPONSE
    return _json(scim.dump(scim.user_resource(identity, base_url(request)), context, _query(request)))


# ---------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------


@scim_endpoint(("GET", "POST"))
def groups(request: HttpRequest, token: ProvisioningToken, body: Any) -> HttpResponse:
    if request.method == "POST":
        resource = scim.parse(scim.GroupResource, body, Context.RESOURCE_CREATION_REQUEST)
        group = scim.group_create(token, resource)
        created = scim.group_resources(token, [group], base_url(request))[0]
        return _json(
            scim.dump(created, Context.RESOURCE_CREATION_RESPONSE, _query(request)),
            201,
            location=created.meta.location if created.meta else None,
        )
    search = scim.search_request(scim.GroupResource, _query(request))
    return _json(scim.groups_list(token, search, base_url(request)))


@scim_endpoint(("GET", "PUT", "PATCH", "DELETE"))
def group(request: HttpRequest, token: ProvisioningToken, body: Any, resource_id: str) -> HttpResponse:
    if request.method == "DELETE":
        scim.group_delete(token, resource_id)
        return HttpResponse(status=204)
    if request.method == "PUT":
        replacement = scim.parse(scim.GroupResource, body, Context.RESOURCE_REPLACEMENT_REQUEST)
        found = scim.group_replace(token, resource_id, replacement)
        context = Context.RESOURCE_REPLACEMENT_RESPONSE
    elif request.method == "PATCH":
        patch = scim.parse(PatchOp[scim.GroupResource], body, Context.RESOURCE_PATCH_REQUEST)
        found = scim.group_patch(token, resource_id, patch, base_url(request))
        context = Context.RESOURCE_PATCH_RESPONSE
    else:
        scim.search_request(scim.GroupResource, _query(request))
        found = scim.group_get(token, resource_id)
        context = Context.RESOURCE_QUERY_RESPONSE
    resource = scim.group_resources(token, [found], base_url(request))[0]
    return _json(scim.dump(resource, context, _query(request)))


# ---------------------------------------------------------------------------
# Everything else
# ---------------------------------------------------------------------------


@scim_endpoint(("POST",))
def search(request: HttpRequest, token: ProvisioningToken, body: Any) -> HttpResponse:
    return error_response(501, "Searching several resource types at once (POST /.search) is not supported.")


@scim_endpoint(("GET", "POST", "PUT", "PATCH", "DELETE"))
def not_found(request: HttpRequest, token: ProvisioningToken, body: Any, rest: str = "") -> HttpResponse:
    raise NotFoundException(detail="No such SCIM endpoint.")
