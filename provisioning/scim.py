"""SCIM 2.0 (RFC 7643, RFC 7644) for identity providers: discovery, Users and Groups, as services.

The resources, filters, PATCH operations and errors are scim2-models' (no hand-written SCIM JSON):
``UserResource`` and ``GroupResource`` declare exactly the attributes kept here, so the Schemas
endpoint publishes only what is implemented and a client's unknown attributes (an enterprise
extension, a phone number) are dropped, as ``SCIM_POLICY`` says, instead of refused.

What a SCIM write means here:

- a **User** is a person as the token's organisation's provider knows them (``ExternalIdentity``):
  its ``userName``, ``externalId`` and attributes are kept as sent and read back; the person's full
  name comes from ``displayName`` (else ``name.formatted``, else given and family names) and their
  email from the primary (else work, else first) of ``emails``, changed through
  ``conduct.people.person_details_update``;
- ``active: false`` records a leaver (``person_record_leaver``: every role they hold within the
  token's reach ends today, what they owed through it closes, what they signed stays);
- DELETE records the leaver too and deactivates the account when nothing else holds it; the
  person, their records and evidence stay, and the user is gone from SCIM (404);
- a **Group** stands for one role kind in one organisation within reach: adding a member starts
  that role today (``role_add``), removing one ends it today (``role_end``). Officer roles (admin,
  chair, clerk) are never granted by a token.

Every write is audited (``ROSTER_SYNCED``, actor None, ``via: "scim"`` and the token's id), beside
the entries the people services write themselves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, ClassVar, Union

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from pydantic import EmailStr, Field
from pydantic import ValidationError as PydanticValidationError
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    Context,
    Email,
    ETag,
    Extension,
    Filter,
    ForbiddenException,
    InvalidFilterException,
    InvalidValueException,
    ListResponse,
    Meta,
    Mutability,
    Name,
    NotFoundException,
    Patch,
    PatchOp,
    Reference,
    Required,
    Resource,
    ResourceType,
    ResponseParameters,
    Schema,
    ScimPolicy,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
    UniquenessException,
)
from scim2_models.path.expressions import CompareOperator, Comparison

from conduct.audit import audit_log_record
from conduct.models import (
    OFFICER_ROLE_KINDS,
    AuditAction,
    Organisation,
    Person,
    Role,
    RoleKind,
    role_kind_from_text,
    role_label,
)
from conduct.people import (
    person_deactivate,
    person_details_check,
    person_details_update,
    person_reactivate,
    person_record_leaver,
    role_add,
    role_end,
    roles_held_within,
)
from conduct.permissions import token_may_change_person, token_may_grant_role, token_reaches
from provisioning.models import EXTERNAL_ID_MAX_LENGTH, ExternalIdentity, ProvisioningToken, ScimGroup

SCIM_CONTENT_TYPE = "application/scim+json"
MAX_RESULTS = 200  # filter.maxResults: the most resources one list response holds
USER_NAME_MAX_LENGTH = ExternalIdentity._meta.get_field("user_name").max_length or 254
GROUP_NAME_MAX_LENGTH = ScimGroup._meta.get_field("display_name").max_length or 200
VIA = "scim"

# What the service tolerates from identity providers (scim2-models' reading of the RFC otherwise):
# attributes it does not keep are dropped; a PATCH remove may select by value and a PATCH path filter
# that matches nothing creates the entry, as Microsoft Entra ID sends them.
SCIM_POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ROLE_GROUP_SCHEMA = "urn:ietf:params:scim:schemas:extension:conduct:2.0:RoleGroup"


class UserEmail(Email):
    """An email address of a user: its value is required (it is the person's sign-in and where mail goes)."""

    value: Annotated[EmailStr | None, Required.true] = None


class UserResource(Resource[Any]):
    """A SCIM User as this service keeps it: what the Schemas endpoint publishes."""

    __schema__ = URN(USER_SCHEMA)

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    name: Name | None = None
    display_name: str | None = None
    active: bool | None = None
    # Required: a person here is their email address (the sign-in and where reminders go).
    emails: Annotated[list[UserEmail] | None, Required.true] = None

    Emails: ClassVar[type[ComplexAttribute]] = UserEmail


class RoleGroupExtension(Extension):
    """Which role a group stands for: an organisation (its short web name) and a role kind."""

    __schema__ = URN(ROLE_GROUP_SCHEMA)

    organisation: Annotated[str | None, Required.true] = None
    role_kind: Annotated[str | None, Required.true] = None


class RoleGroupMember(ComplexAttribute):
    """A member of a group: a user of the same token (no ``display``: the person's name is theirs, not the group's)."""

    value: Annotated[str | None, Mutability.immutable, CaseExact.true] = None
    # "User" stays a string: scim2-models reads it as the name of the referenced resource type.
    ref: Annotated[Reference[Union["User"]] | None, Mutability.immutable] = Field(  # type: ignore[name-defined]  # noqa: F821, UP007, UP037
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User"])


class GroupResource(Resource[RoleGroupExtension]):
    """A SCIM Group: one role kind in one organisation. Without the extension, ``displayName`` says which,
    as "<organisation short web name>:<role kind>" (e.g. "oak-north:employee")."""

    __schema__ = URN(GROUP_SCHEMA)

    display_name: Annotated[str | None, Required.true] = None
    members: list[RoleGroupMember] | None = None

    Members: ClassVar[type[ComplexAttribute]] = RoleGroupMember


# ---------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------


def _meta(resource_type: str, location: str, *, created: Any = None, modified: Any = None) -> Meta:
    return Meta(resource_type=resource_type, location=location, created=created, last_modified=modified)


def service_provider_config(base_url: str) -> ServiceProviderConfig:
    """What is implemented, and nothing else: PATCH and filters yes; bulk, sort, ETags and passwords no."""
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Provisioning token",
                description="A bearer token an admin creates for their organisation (Provisioning page).",
                primary=True,
            )
        ],
        meta=_meta("ServiceProviderConfig", base_url + "ServiceProviderConfig"),
    )


def resource_types(base_url: str) -> list[ResourceType]:
    user = ResourceType.from_resource(UserResource)
    user.name = user.id = "User"
    user.description = "People, as the organisation's identity provider knows them"
    user.meta = _meta("ResourceType", base_url + "ResourceTypes/User")
    group = ResourceType.from_resource(GroupResource)
    group.name = group.id = "Group"
    group.description = "A role kind in an organisation: members hold that role"
    group.meta = _meta("ResourceType", base_url + "ResourceTypes/Group")
    return [user, group]


def schemas(base_url: str, token: ProvisioningToken) -> list[Schema]:
    """The User, Group and role-group schemas; the role group's values are those this token may use."""
    user = UserResource.to_schema()
    user.name, user.description = "User", "User Account"
    group = GroupResource.to_schema()
    group.name, group.description = "Group", "A role kind in an organisation"
    extension = RoleGroupExtension.to_schema()
    extension.name, extension.description = "RoleGroup", "The organisation and role kind a group stands for"
    slugs = list(_reachable(token).order_by("path").values_list("slug", flat=True)[:MAX_RESULTS])
    for attribute in extension.attributes or []:
        if attribute.name == "organisation":
            attribute.canonical_values = slugs
            attribute.description = "The short web name of an organisation within the token's reach."
        elif attribute.name == "roleKind":
            attribute.canonical_values = grantable_kinds()
            attribute.description = "A role kind (officer roles are granted in the app, not by provisioning)."
    for schema in (user, group, extension):
        schema.meta = _meta("Schema", f"{base_url}Schemas/{schema.id}")
    return [user, group, extension]


def grantable_kinds() -> list[str]:
    """The role kinds a group may stand for: every kind but the officer roles (granted by admins in the app)."""
    return [kind for kind in RoleKind.values if kind not in OFFICER_ROLE_KINDS]


def _reachable(token: ProvisioningToken) -> QuerySet[Organisation]:
    today = timezone.localdate()
    return Organisation.objects.filter(path__startswith=token.organisation.path).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gt=today)
    )


# ---------------------------------------------------------------------------
# Errors and parsing
# ---------------------------------------------------------------------------


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


def _from_people_error(error: ValidationError) -> Exception:
    """A people service's refusal as a SCIM error: a taken email address is a uniqueness conflict."""
    if hasattr(error, "error_dict") and any(
        "already has the email address" in message for message in error.message_dict.get("email", [])
    ):
        return UniquenessException(detail=_messages(error))
    return InvalidValueException(detail=_messages(error))


def parse(model: type[Any], payload: Any, context: Context) -> Any:
    """A request body as ``model`` (a resource or PatchOp) under ``SCIM_POLICY``; pydantic's errors propagate."""
    if not isinstance(payload, dict):
        raise InvalidValueException(detail="The request body must be a JSON object.")
    return model.model_validate(payload, scim_ctx=context, scim_policy=SCIM_POLICY)


def _resource_uuid(resource_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(resource_id)
    except (ValueError, TypeError, AttributeError):
        raise NotFoundException(detail=f"No resource with id {resource_id!r}.") from None


@dataclass(frozen=True)
class Page:
    start_index: int
    count: int


def search_request(model: type[Any], params: dict[str, Any]) -> Any:
    """The query string (filter, startIndex, count, attributes, excludedAttributes) as a SearchRequest."""
    wanted = {
        key: value
        for key, value in params.items()
        if key in ("filter", "startIndex", "count", "attributes", "excludedAttributes")
    }
    search = SearchRequest[model]  # type: ignore[valid-type]
    return search.model_validate(wanted, scim_ctx=Context.SEARCH_REQUEST, scim_policy=SCIM_POLICY)


MAX_START_INDEX = 2**62  # beyond any list; a larger startIndex would overflow the database's OFFSET (a 500)


def _page(request: Any) -> Page:
    start = min(max(1, request.start_index or 1), MAX_START_INDEX)
    count = MAX_RESULTS if request.count is None else max(0, min(request.count, MAX_RESULTS))
    return Page(start, count)


def _equality(request: Any, allowed: dict[str, str]) -> tuple[str, str] | None:
    """The one ``attr eq "value"`` comparison a list supports, as (attribute, value); None without a filter."""
    if request.filter is None:
        return None
    node = request.filter.ast
    if not isinstance(node, Comparison) or node.attr_path.sub_attr is not None:
        raise InvalidFilterException(detail=f"Supported filters: {', '.join(allowed.values())} with eq.")
    uri = node.attr_path.uri
    attribute = allowed.get(node.attr_path.attr.lower())
    if attribute is None or node.op != CompareOperator.eq or (uri and uri not in (USER_SCHEMA, GROUP_SCHEMA)):
        raise InvalidFilterException(detail=f"Supported filters: {', '.join(allowed.values())} with eq.")
    if not isinstance(node.value, str):
        raise InvalidFilterException(detail=f"Compare {allowed[node.attr_path.attr.lower()]} with a string.")
    return attribute, node.value


def list_response(model: type[Any], resources: list[Any], *, total: int, page: Page, request: Any) -> dict[str, Any]:
    response = ListResponse[model](  # type: ignore[valid-type]
        total_results=total, start_index=page.start_index, items_per_page=len(resources), resources=resources
    )
    return response.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=request)


def dump(resource: Any, context: Context, params: dict[str, Any] | None = None) -> dict[str, Any]:
    parameters = None
    if params:
        parameters = ResponseParameters[type(resource)].model_validate(  # type: ignore[misc]
            {key: value for key, value in params.items() if key in ("attributes", "excludedAttributes")}
        )
    return resource.model_dump(scim_ctx=context, response_parameters=parameters)


def _audit(token: ProvisioningToken, *, target: Any, subject: Person | None, summary: str, details: dict) -> None:
    audit_log_record(
        actor=None,
        action=AuditAction.ROSTER_SYNCED,
        organisation=token.organisation,
        target=target,
        subject=subject,
        summary=f"SCIM ({token.name}): {summary}",
        details={"via": VIA, "token": token.pk, **details},
    )


# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------


def identities(token: ProvisioningToken) -> QuerySet[ExternalIdentity]:
    """The users this token sees: those provisioned into its organisation and not deleted."""
    return ExternalIdentity.objects.filter(organisation=token.organisation, deprovisioned_at__isnull=True)


def identity_get(token: ProvisioningToken, resource_id: str, *, lock: bool = False) -> ExternalIdentity:
    found = identities(token).filter(uuid=_resource_uuid(resource_id))
    if lock:
        found = found.select_for_update()
    identity = found.select_related("person").first()
    if identity is None:
        raise NotFoundException(detail=f"No user with id {resource_id!r}.")
    return identity


def user_resource(identity: ExternalIdentity, base_url: str) -> UserResource:
    user = UserResource.model_validate(identity.attributes or {}, scim_policy=SCIM_POLICY)
    user.schemas = [USER_SCHEMA]
    user.id = str(identity.uuid)
    user.user_name = identity.user_name
    user.external_id = identity.external_id or None
    # ``active`` is echoed only when the provider set it; the identity's flag is the state either way.
    user.active = identity.active if (identity.attributes or {}).get("active") is not None else None
    user.meta = _meta(
        "User", f"{base_url}Users/{identity.uuid}", created=identity.created_at, modified=identity.updated_at
    )
    return user


def users_list(token: ProvisioningToken, request: Any, base_url: str) -> dict[str, Any]:
    found = identities(token).order_by("pk")
    equality = _equality(request, {"username": "userName", "externalid": "externalId", "id": "id"})
    if equality is not None:
        attribute, value = equality
        if attribute == "userName":
            found = found.filter(user_name__iexact=value) if value else found.none()
        elif attribute == "externalId":
            found = found.filter(external_id=value) if value else found.none()
        else:
            try:
                found = found.filter(uuid=uuid.UUID(value))
            except ValueError:
                found = found.none()
    page = _page(request)
    total = found.count()
    chosen = list(found[page.start_index - 1 : page.start_index - 1 + page.count]) if page.count else []
    return list_response(
        UserResource, [user_resource(i, base_url) for i in chosen], total=total, page=page, request=request
    )


def _email_of(user: UserResource) -> str:
    emails = [email for email in user.emails or [] if email.value]
    chosen = (
        next((e for e in emails if e.primary), None)
        or next((e for e in emails if str(e.type or "") == "work"), None)
        or (emails[0] if emails else None)
    )
    if chosen is not None:
        return str(chosen.value).strip().lower()
    user_name = (user.user_name or "").strip()
    return user_name.lower() if "@" in user_name else ""


def _name_of(user: UserResource) -> str:
    name = user.name
    parts = [name.given_name, name.middle_name, name.family_name] if name else []
    candidates = [user.display_name, name.formatted if name else None, " ".join(p for p in parts if p)]
    return next((" ".join(c.split()) for c in candidates if c and c.strip()), "")


def _stored(user: UserResource) -> dict[str, Any]:
    data = user.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    for key in ("schemas", "id", "meta", "externalId", "userName"):
        data.pop(key, None)
    return data


def _check_identifiers(
    token: ProvisioningToken, *, user_name: str, external_id: str, exclude: ExternalIdentity | None = None
) -> None:
    if not user_name:
        raise InvalidValueException(detail="userName is required.")
    if len(user_name) > USER_NAME_MAX_LENGTH:
        raise InvalidValueException(detail=f"userName is longer than {USER_NAME_MAX_LENGTH} characters.")
    if len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        raise InvalidValueException(detail=f"externalId is longer than {EXTERNAL_ID_MAX_LENGTH} characters.")
    others = identities(token)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.filter(user_name__iexact=user_name).exists():
        raise UniquenessException(detail=f"userName {user_name!r} is already in use.")
    if external_id and others.filter(external_id=external_id).exists():
        raise UniquenessException(detail=f"externalId {external_id!r} is already in use.")


def _may_claim(token: ProvisioningToken, person: Person) -> bool:
    """An existing person (same email) may be linked to this token's user: someone who holds or held a role within
    its reach, or who has no roles and is known to no other organisation's provider (never an operator). Linking
    changes their name only if the token may change them (``token_may_change_person``)."""
    if person.is_superuser or person.is_staff:
        return False
    if Role.objects.filter(person=person, organisation__path__startswith=token.organisation.path).exists():
        return True
    known_elsewhere = ExternalIdentity.objects.filter(person=person).exclude(organisation=token.organisation)
    return not Role.objects.filter(person=person).exists() and not known_elsewhere.exists()


def _new_person(*, email: str, full_name: str) -> Person:
    from allauth.account.models import EmailAddress

    person = Person.objects.create_user(email=email, password=None, full_name=full_name)
    # allauth must know the address; it is verified when the person first signs in through it.
    EmailAddress.objects.get_or_create(user=person, email=person.email, defaults={"primary": True, "verified": False})
    return person


def _leave(token: ProvisioningToken, person: Person, reason: str) -> list[Role]:
    today = timezone.localdate()
    if not roles_held_within(person, token.organisation, today):
        return []
    return person_record_leaver(
        actor=None, person=person, ends_on=today, reason=reason, within=token.organisation, via=VIA
    )


@transaction.atomic
def user_create(token: ProvisioningToken, user: UserResource) -> ExternalIdentity:
    user_name = (user.user_name or "").strip()
    external_id = (user.external_id or "").strip()
    _check_identifiers(token, user_name=user_name, external_id=external_id)
    email = _email_of(user)
    if not email:
        raise InvalidValueException(detail="Give the user's email address in emails (or as an email userName).")
    existing = Person.objects.filter(email__iexact=email).first()
    full_name = _name_of(user) or (existing.full_name if existing is not None else user_name)
    identity: ExternalIdentity | None = None
    if existing is not None:
        if not _may_claim(token, existing):
            raise UniquenessException(detail=f"The email address {email} belongs to someone this token cannot manage.")
        identity = (
            ExternalIdentity.objects.select_for_update()
            .filter(organisation=token.organisation, person=existing)
            .first()
        )
        if identity is not None and identity.deprovisioned_at is None:
            raise UniquenessException(detail=f"The email address {email} is already used by another user.")
        person = existing
        if token_may_change_person(token.organisation, existing):
            try:
                person = person_details_update(actor=None, person=existing, full_name=full_name, email=email, via=VIA)
            except ValidationError as error:
                raise _from_people_error(error) from None
            if not person.is_active:  # provisioned again after a DELETE
                person_reactivate(actor=None, person=person, via=VIA)
    else:
        try:
            full_name, email = person_details_check(full_name=full_name, email=email)
        except ValidationError as error:
            raise _from_people_error(error) from None
        try:
            with transaction.atomic():
                person = _new_person(email=email, full_name=full_name)
        except IntegrityError:  # a concurrent request created the same address between the check and here
            raise UniquenessException(detail=f"The email address {email} is already used by another user.") from None
    now = timezone.now()
    if identity is None:
        identity = ExternalIdentity(organisation=token.organisation, person=person, created_at=now)
    identity.user_name, identity.external_id = user_name, external_id
    identity.active = user.active is not False
    identity.attributes = _stored(user)
    identity.deprovisioned_at, identity.updated_at = None, now
    try:
        with transaction.atomic():
            identity.save()
    except IntegrityError:  # a concurrent create took the userName or externalId
        raise UniquenessException(detail="userName or externalId is already in use.") from None
    _audit(
        token,
        target=identity,
        subject=person,
        summary=f"provisioned {person.full_name} as {user_name}",
        details={"before": None, "after": {"userName": user_name, "externalId": external_id, "email": email}},
    )
    return identity


def _apply(token: ProvisioningToken, identity: ExternalIdentity, user: UserResource, *, operation: str) -> None:
    """Bring the identity and the person in line with ``user`` (a replacement or a patched resource)."""
    user_name = (user.user_name or "").strip()
    external_id = (user.external_id or "").strip()
    _check_identifiers(token, user_name=user_name, external_id=external_id, exclude=identity)
    email = _email_of(user)
    if not email:
        raise InvalidValueException(detail="Give the user's email address in emails (or as an email userName).")
    person = identity.person
    full_name = _name_of(user) or person.full_name
    before = {
        "userName": identity.user_name,
        "externalId": identity.external_id,
        "active": identity.active,
        "email": person.email,
        "full_name": person.full_name,
    }
    if (full_name, email) != (person.full_name, person.email):
        if not token_may_change_person(token.organisation, person):
            raise ForbiddenException(
                detail="This person also holds roles outside the token's organisation: change their name or email "
                "in the app."
            )
        try:
            person = person_details_update(actor=None, person=person, full_name=full_name, email=email, via=VIA)
        except ValidationError as error:
            raise _from_people_error(error) from None
    active = user.active is not False
    ended: list[Role] = []
    if identity.active and not active:
        ended = _leave(token, person, "Marked inactive by the identity provider")
    identity.user_name, identity.external_id, identity.active = user_name, external_id, active
    identity.attributes = _stored(user)
    identity.updated_at = timezone.now()
    try:
        with transaction.atomic():
            identity.save()
    except IntegrityError:
        raise UniquenessException(detail="userName or externalId is already in use.") from None
    after = {**before, "userName": user_name, "externalId": external_id, "active": active}
    after.update(email=person.email, full_name=person.full_name)
    _audit(
        token,
        target=identity,
        subject=person,
        summary=f"{operation} user {user_name} ({person.full_name})"
        + (f"; left, {len(ended)} role(s) ended" if ended else ""),
        details={"before": before, "after": after},
    )


@transaction.atomic
def user_replace(token: ProvisioningToken, resource_id: str, user: UserResource) -> ExternalIdentity:
    identity = identity_get(token, resource_id, lock=True)
    _apply(token, identity, user, operation="replaced")
    return identity


@transaction.atomic
def user_patch(token: ProvisioningToken, resource_id: str, patch: PatchOp, base_url: str) -> ExternalIdentity:
    identity = identity_get(token, resource_id, lock=True)
    user = user_resource(identity, base_url)
    patch.patch(user, scim_policy=SCIM_POLICY)
    try:  # the patched user must still be a valid one (userName and emails are required)
        user = UserResource.model_validate(
            user.model_dump(scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST),
            scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST,
            scim_policy=SCIM_POLICY,
        )
    except PydanticValidationError as error:
        raise InvalidValueException(detail="; ".join(e["msg"] for e in error.errors())) from None
    _apply(token, identity, user, operation="updated")
    return identity


@transaction.atomic
def user_delete(token: ProvisioningToken, resource_id: str) -> None:
    """The provider deleted the user: they leave, their account is switched off if nothing else holds it, and the
    user is gone from SCIM. The person, what they signed and every record stay."""
    identity = identity_get(token, resource_id, lock=True)
    person = identity.person
    ended = _leave(token, person, "Deleted by the identity provider")
    deactivated = False
    if (
        person.is_active
        and token_may_change_person(token.organisation, person)
        and not Role.objects.filter(person=person)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=timezone.localdate()))
        .exists()
        and not ExternalIdentity.objects.filter(person=person, deprovisioned_at__isnull=True)
        .exclude(pk=identity.pk)
        .exists()
    ):
        person_deactivate(actor=None, person=person, via=VIA)
        deactivated = True
    before = {"userName": identity.user_name, "externalId": identity.external_id, "active": identity.active}
    # The unique identifiers are freed for a later user; what the provider sent stays in ``attributes``.
    identity.attributes = {**identity.attributes, "userName": identity.user_name, "externalId": identity.external_id}
    identity.user_name, identity.external_id, identity.active = "", "", False
    identity.deprovisioned_at = identity.updated_at = timezone.now()
    identity.save()
    _audit(
        token,
        target=identity,
        subject=person,
        summary=f"deleted user {before['userName']} ({person.full_name}): {len(ended)} role(s) ended"
        + ("; account deactivated" if deactivated else ""),
        details={"before": before, "after": {"deleted": True, "account_deactivated": deactivated}},
    )


# ---------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------


def groups(token: ProvisioningToken) -> QuerySet[ScimGroup]:
    return ScimGroup.objects.filter(scope=token.organisation, deleted_at__isnull=True)


def group_get(token: ProvisioningToken, resource_id: str, *, lock: bool = False) -> ScimGroup:
    found = groups(token).filter(uuid=_resource_uuid(resource_id)).select_related("organisation")
    if lock:
        found = found.select_for_update()
    group = found.first()
    if group is None:
        raise NotFoundException(detail=f"No group with id {resource_id!r}.")
    return group


def _holding(group: ScimGroup, today: date) -> QuerySet[Role]:
    """The group's roles that are not ending: held from any day, with no end or an end after today."""
    return Role.objects.filter(organisation=group.organisation, kind=group.kind).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gt=today)
    )


def _members(token: ProvisioningToken, groups_: list[ScimGroup]) -> dict[int, list[ExternalIdentity]]:
    """Each group's members (users of this token holding its role), in two queries for any number of groups."""
    today = timezone.localdate()
    if not groups_:
        return {}
    query = Q(pk__in=[])
    for group in groups_:
        query |= Q(organisation_id=group.organisation_id, kind=group.kind)
    roles = Role.objects.filter(query).filter(Q(ends_on__isnull=True) | Q(ends_on__gt=today))
    pairs = set(roles.values_list("organisation_id", "kind", "person_id"))
    people = {person_id for _org, _kind, person_id in pairs}
    by_person = {i.person_id: i for i in identities(token).filter(person_id__in=people).select_related("person")}
    result: dict[int, list[ExternalIdentity]] = {}
    for group in groups_:
        result[group.pk] = sorted(
            (
                by_person[person_id]
                for org, kind, person_id in pairs
                if org == group.organisation_id and kind == group.kind and person_id in by_person
            ),
            key=lambda i: i.pk,
        )
    return result


def _member(identity: ExternalIdentity, base_url: str) -> RoleGroupMember:
    return RoleGroupMember(value=str(identity.uuid), ref=Reference(f"{base_url}Users/{identity.uuid}"), type="User")


def group_resource(group: ScimGroup, members: list[ExternalIdentity], base_url: str) -> GroupResource:
    resource = GroupResource(
        id=str(group.uuid),
        external_id=group.external_id or None,
        display_name=group.display_name,
        members=[_member(identity, base_url) for identity in members] or None,
        meta=_meta("Group", f"{base_url}Groups/{group.uuid}", created=group.created_at, modified=group.updated_at),
    )
    resource.schemas = [GROUP_SCHEMA]
    if group.shows_role:
        resource[RoleGroupExtension] = RoleGroupExtension(organisation=group.organisation.slug, role_kind=group.kind)
        resource.schemas = [GROUP_SCHEMA, ROLE_GROUP_SCHEMA]
    return resource


def group_resources(token: ProvisioningToken, groups_: list[ScimGroup], base_url: str) -> list[GroupResource]:
    members = _members(token, groups_)
    return [group_resource(g, members.get(g.pk, []), base_url) for g in groups_]


def groups_list(token: ProvisioningToken, request: Any, base_url: str) -> dict[str, Any]:
    found = groups(token).select_related("organisation").order_by("pk")
    equality = _equality(request, {"displayname": "displayName", "externalid": "externalId", "id": "id"})
    if equality is not None:
        attribute, value = equality
        if attribute == "displayName":
            found = found.filter(display_name__iexact=value)
        elif attribute == "externalId":
            found = found.filter(external_id=value) if value else found.none()
        else:
            try:
                found = found.filter(uuid=uuid.UUID(value))
            except ValueError:
                found = found.none()
    page = _page(request)
    total = found.count()
    chosen = list(found[page.start_index - 1 : page.start_index - 1 + page.count]) if page.count else []
    return list_response(
        GroupResource, group_resources(token, chosen, base_url), total=total, page=page, request=request
    )


def _extension_of(resource: GroupResource) -> RoleGroupExtension | None:
    extension = resource[RoleGroupExtension]
    return extension if extension is not None and (extension.organisation or extension.role_kind) else None


def _role_of(
    token: ProvisioningToken, resource: GroupResource, current: ScimGroup | None = None
) -> tuple[Organisation, str]:
    """The organisation and role kind a group stands for: from the extension (what it leaves out stays as it
    is), else, for a new group, from its displayName."""
    extension = _extension_of(resource)
    if extension is not None:
        slug = extension.organisation or (current.organisation.slug if current else "")
        kind_text = extension.role_kind or (current.kind if current else "")
    elif current is not None:
        return current.organisation, current.kind
    else:
        slug, _, kind_text = (resource.display_name or "").rpartition(":")
    kind = role_kind_from_text(kind_text) if kind_text else None
    organisation = Organisation.objects.filter(slug=slug.strip().lower()).first() if slug.strip() else None
    if organisation is None or kind is None:
        raise InvalidValueException(
            detail="Say which role the group stands for: the RoleGroup extension's organisation and roleKind, or a "
            "displayName “<organisation short web name>:<role kind>”, e.g. “oak-north:employee”."
        )
    if not token_reaches(token.organisation, organisation):
        raise ForbiddenException(detail=f"The organisation {slug!r} is not within this token's reach.")
    if not token_may_grant_role(token.organisation, kind, organisation):
        raise ForbiddenException(
            detail=f"A token cannot grant the {role_label(kind).lower()} role: an admin does that in the app."
        )
    return organisation, kind


def _member_identities(token: ProvisioningToken, resource: GroupResource) -> list[ExternalIdentity]:
    wanted: list[uuid.UUID] = []
    for member in resource.members or []:
        try:
            wanted.append(uuid.UUID(str(member.value)))
        except ValueError:
            raise InvalidValueException(detail=f"No user with id {member.value!r}.") from None
    found = {i.uuid: i for i in identities(token).filter(uuid__in=wanted).select_related("person")}
    missing = [str(u) for u in wanted if u not in found]
    if missing:
        raise InvalidValueException(detail=f"No user with id {missing[0]!r}.")
    return list({i.pk: i for i in (found[u] for u in wanted)}.values())


def _set_members(token: ProvisioningToken, group: ScimGroup, wanted: list[ExternalIdentity]) -> dict[str, list[str]]:
    """Start the group's role for new members and end it for those no longer listed; returns who changed."""
    today = timezone.localdate()
    holding = list(_holding(group, today).select_related("person"))
    current = {identity.person_id for identity in _members(token, [group]).get(group.pk, [])}
    wanted_people = {identity.person_id for identity in wanted}
    added, removed = [], []
    for identity in wanted:
        if identity.person_id in current:
            continue
        if not token_may_change_person(token.organisation, identity.person) and not identity.person.is_active:
            raise ForbiddenException(detail="This person's account is managed outside the token's organisation.")
        # A role ended today (removed earlier today) is still held today: the new one starts tomorrow.
        ended_today = Role.objects.filter(
            person_id=identity.person_id, organisation=group.organisation, kind=group.kind, ends_on=today
        ).exists()
        try:
            role_add(
                actor=None,
                person=identity.person,
                organisation=group.organisation,
                kind=group.kind,
                starts_on=today + timedelta(days=1) if ended_today else today,
                via=VIA,
            )
        except ValidationError as error:
            raise InvalidValueException(detail=_messages(error)) from None
        added.append(identity.user_name)
    for role in holding:
        if role.person_id in current and role.person_id not in wanted_people:
            try:
                role_end(
                    actor=None,
                    role=role,
                    ends_on=max(today, role.starts_on),
                    reason=f"Removed from the group “{group.display_name}” by the identity provider",
                    via=VIA,
                )
            except ValidationError as error:
                raise InvalidValueException(detail=_messages(error)) from None
            removed.append(role.person.full_name)
    return {"added": added, "removed": removed}


def _check_group_name(token: ProvisioningToken, name: str, *, exclude: ScimGroup | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidValueException(detail="displayName is required.")
    if len(name) > GROUP_NAME_MAX_LENGTH:
        raise InvalidValueException(detail=f"displayName is longer than {GROUP_NAME_MAX_LENGTH} characters.")
    others = groups(token)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.filter(display_name__iexact=name).exists():
        raise UniquenessException(detail=f"displayName {name!r} is already in use.")
    return name


@transaction.atomic
def group_create(token: ProvisioningToken, resource: GroupResource) -> ScimGroup:
    name = _check_group_name(token, resource.display_name or "")
    external_id = (resource.external_id or "").strip()
    if len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        raise InvalidValueException(detail=f"externalId is longer than {EXTERNAL_ID_MAX_LENGTH} characters.")
    organisation, kind = _role_of(token, resource)
    if groups(token).filter(organisation=organisation, kind=kind).exists():
        raise UniquenessException(detail=f"A group already stands for {role_label(kind).lower()} at {organisation}.")
    try:
        with transaction.atomic():
            group = ScimGroup.objects.create(
                scope=token.organisation,
                organisation=organisation,
                kind=kind,
                display_name=name,
                external_id=external_id,
            )
    except IntegrityError:
        raise UniquenessException(detail="A group with this name or role already exists.") from None
    changes = _set_members(token, group, _member_identities(token, resource))
    _audit(
        token,
        target=group,
        subject=None,
        summary=f"group “{name}” created for {role_label(kind).lower()} at {organisation.name}",
        details={
            "before": None,
            "after": {"displayName": name, "organisation": organisation.slug, "kind": kind},
            **changes,
        },
    )
    return group


def _group_apply(token: ProvisioningToken, group: ScimGroup, resource: GroupResource, *, operation: str) -> None:
    name = _check_group_name(token, resource.display_name or "", exclude=group)
    external_id = (resource.external_id or "").strip()
    if len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        raise InvalidValueException(detail=f"externalId is longer than {EXTERNAL_ID_MAX_LENGTH} characters.")
    before = {
        "displayName": group.display_name,
        "externalId": group.external_id,
        "organisation": group.organisation.slug,
        "kind": group.kind,
    }
    wanted = _member_identities(token, resource)
    organisation, kind = _role_of(token, resource, current=group)
    moved: dict[str, list[str]] = {}
    if (organisation.pk, kind) != (group.organisation_id, group.kind):
        # The group now stands for another role: its members' old role ends, the new one starts.
        moved = _set_members(token, group, [])
        group.organisation, group.kind = organisation, kind
    changes = _set_members(token, group, wanted)
    group.display_name, group.external_id = name, external_id
    group.shows_role = _extension_of(resource) is not None
    group.updated_at = timezone.now()
    group.save()
    _audit(
        token,
        target=group,
        subject=None,
        summary=f"{operation} group “{name}”",
        details={
            "before": before,
            "after": {"displayName": name, "externalId": external_id, "organisation": organisation.slug, "kind": kind},
            **changes,
            **({"ended_for_old_role": moved["removed"]} if moved else {}),
        },
    )


@transaction.atomic
def group_replace(token: ProvisioningToken, resource_id: str, resource: GroupResource) -> ScimGroup:
    group = group_get(token, resource_id, lock=True)
    _group_apply(token, group, resource, operation="replaced")
    return group


@transaction.atomic
def group_patch(token: ProvisioningToken, resource_id: str, patch: PatchOp, base_url: str) -> ScimGroup:
    group = group_get(token, resource_id, lock=True)
    resource = group_resources(token, [group], base_url)[0]
    patch.patch(resource, scim_policy=SCIM_POLICY)
    _group_apply(token, group, resource, operation="updated")
    return group


@transaction.atomic
def group_delete(token: ProvisioningToken, resource_id: str) -> None:
    """The provider deleted the group: as if every member were removed (their roles end today)."""
    group = group_get(token, resource_id, lock=True)
    changes = _set_members(token, group, [])
    group.deleted_at = timezone.now()
    group.save(update_fields=["deleted_at"])
    _audit(
        token,
        target=group,
        subject=None,
        summary=f"deleted group “{group.display_name}”",
        details={"before": {"displayName": group.display_name}, "after": {"deleted": True}, **changes},
    )
