"""Credentials: create, list, get, update, delete, and open one for a connector.

Reads never carry the data: only the names of its fields, a fingerprint of the sealed token and the
key id, so a user can tell which secret is in place without seeing it. Changes emit
`credential.created|updated|deleted` with those same sanitized fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from tortoise.exceptions import IntegrityError

from app.core.after_commit import atomic
from app.core.ids import new_id
from models.connectors import CREDENTIAL_TYPES, Connector, Credential
from models.mcp import McpServer
from resolvers.access import require
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.credentials import requirements
from resolvers.credentials.sealing import keyring_of, seal, unseal
from resolvers.errors import Conflict, Invalid
from resolvers.events.outbox import emit
from resolvers.lookup import owned
from resolvers.pagination import Page, paginate
from resolvers.validation import check_name, check_storable
from resolvers.workflows.references import workflow_calling

UNSET: Any = object()
MAX_DATA_BYTES = 65_536
MAX_METADATA_BYTES = 16_384
MAX_DESCRIPTION = 2000
_PROVIDER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(slots=True)
class CredentialSpec:
    """What a client may set; for an update, fields left UNSET stay as they are."""

    name: Any = UNSET
    description: Any = UNSET
    type: Any = UNSET
    provider: Any = UNSET
    data: Any = UNSET
    metadata: Any = UNSET


def _object(value: Any, what: str, limit: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{what} must be an object")
    check_storable(value, what)  # first: orjson cannot write what is nested past its limit
    if len(orjson.dumps(value)) > limit:
        raise Invalid(f"{what} must be at most {limit} bytes as JSON")
    return value


def _description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION or "\x00" in value:
        raise Invalid(f"description must be a string of at most {MAX_DESCRIPTION} characters, without NUL")
    return value


def _checked_identity(spec: CredentialSpec) -> tuple[str, str]:
    if spec.type not in CREDENTIAL_TYPES:
        raise Invalid(f"type must be one of: {', '.join(CREDENTIAL_TYPES)}")
    if not isinstance(spec.provider, str) or not _PROVIDER.match(spec.provider):
        raise Invalid("provider must be 1-32 lowercase letters, digits, '_' or '-' (e.g. slack, smtp)")
    return spec.type, spec.provider


def _sanitized(credential: Credential) -> dict[str, Any]:
    """What events carry: never the data."""
    return {
        "credentialId": credential.id, "name": credential.name, "type": credential.type,
        "provider": credential.provider, "fields": credential.field_names, "keyId": credential.key_id,
        "fingerprint": credential.fingerprint,
    }


def _audited(credential: Credential) -> dict[str, Any]:
    """What the audit trail compares: never the data (a new `fingerprint` says the data changed)."""
    return {"name": credential.name, "description": credential.description, "type": credential.type,
            "provider": credential.provider, "fields": credential.field_names, "metadata": credential.metadata,
            "fingerprint": credential.fingerprint}


def _set_data(ctx: Context, credential: Credential, data: Any) -> None:
    data = _object(data, "data", MAX_DATA_BYTES)
    requirements.check_data(credential.provider, data)
    sealed = seal(keyring_of(ctx.services), ctx.organization_id, credential.id, data)
    credential.sealed, credential.key_id, credential.fingerprint = sealed.token, sealed.key_id, sealed.fingerprint
    credential.field_names = sorted(data)


async def create(ctx: Context, spec: CredentialSpec) -> Credential:
    """Seal and store a credential (scope credentials:write)."""
    require(ctx, "credentials:write")
    kind, provider = _checked_identity(spec)
    credential = Credential(
        id=new_id("cred"), organization_id=ctx.organization_id, name=check_name(_required(spec.name, "name")),
        description=_description(None if spec.description is UNSET else spec.description),
        type=kind, provider=provider,
        metadata=_object({} if spec.metadata in (UNSET, None) else spec.metadata, "metadata", MAX_METADATA_BYTES),
    )
    _set_data(ctx, credential, _required(spec.data, "data"))
    async with atomic():
        await credential.save()
        await emit(ctx.services, ctx.organization_id, "credential.created", _sanitized(credential))
        await trail.record(ctx, "credential.created", credential.id, trail.created(_audited(credential)))
    return credential


def _required(value: Any, name: str) -> Any:
    if value is UNSET or value is None:
        raise Invalid(f"{name} is required")
    return value


async def list_credentials(ctx: Context, *, limit: int | None = None, cursor: str | None = None) -> Page[Credential]:
    require(ctx, "credentials:read")
    return await paginate(Credential.filter(organization_id=ctx.organization_id), limit, cursor)


async def find(ctx: Context, credential_id: str, scope: str = "credentials:read") -> Credential:
    """The caller's credential; another organization's is NotFound, like an absent one."""
    require(ctx, scope)
    return await owned(Credential, ctx, credential_id, "credential")


async def update(ctx: Context, credential_id: str, spec: CredentialSpec) -> Credential:
    """Replace the name, description, metadata and/or data given. Type and provider are fixed: a
    connector chose this credential for them."""
    credential = await find(ctx, credential_id, "credentials:write")
    for name in ("type", "provider"):
        given = getattr(spec, name)
        if given is not UNSET and given != getattr(credential, name):
            raise Invalid(f"{name} cannot be changed; create a new credential instead")
    changed: list[str] = []
    before = _audited(credential)
    if spec.name is not UNSET:
        credential.name = check_name(_required(spec.name, "name"))
        changed.append("name")
    if spec.description is not UNSET:
        credential.description = _description(spec.description)
        changed.append("description")
    if spec.metadata is not UNSET:
        credential.metadata = _object(spec.metadata or {}, "metadata", MAX_METADATA_BYTES)
        changed.append("metadata")
    if spec.data is not UNSET:
        _set_data(ctx, credential, _required(spec.data, "data"))
        changed.append("data")
    columns = [c for c in changed if c != "data"]
    if "data" in changed:
        columns += ["sealed", "key_id", "fingerprint", "field_names"]
    async with atomic():
        await credential.save(update_fields=[*columns, "updated_at"])
        data = {**_sanitized(credential), "changed": changed}
        await emit(ctx.services, ctx.organization_id, "credential.updated", data)
        await trail.record(ctx, "credential.updated", credential.id, trail.diff(before, _audited(credential)))
    return credential


async def delete(ctx: Context, credential_id: str) -> Credential:
    """Delete a credential no connector, no MCP server and no workflow's http_request step uses; 409
    naming the one that still does."""
    credential = await find(ctx, credential_id, "credentials:write")
    try:
        async with atomic() as conn:
            # Locked before the reference checks (FOR UPDATE on PostgreSQL): a workflow save holds the
            # credentials its steps send (lookup.held_for_reference), so it either committed before
            # the check, which then sees it, or waits and finds the row gone.
            credential = await owned(Credential, ctx, credential.id, "credential", conn=conn, lock=True)
            await _refuse_if_used(ctx, credential)
            await credential.delete(using_db=conn)
            await emit(ctx.services, ctx.organization_id, "credential.deleted", _sanitized(credential))
            await trail.record(ctx, "credential.deleted", credential.id, trail.deleted(_audited(credential)))
    except IntegrityError:  # a connector took it up meanwhile; the foreign key refused the delete
        user = await Connector.filter(organization_id=ctx.organization_id, credential_id=credential.id).first()
        raise _in_use(credential, user) from None
    return credential


async def _refuse_if_used(ctx: Context, credential: Credential) -> None:
    """409 naming a connector, an MCP server or a workflow's http_request step that uses it."""
    user = await Connector.filter(organization_id=ctx.organization_id, credential_id=credential.id).first()
    if user is not None:
        raise _in_use(credential, user)
    server = await McpServer.filter(organization_id=ctx.organization_id, credential_id=credential.id).first()
    if server is not None:
        raise _in_use(credential, server)
    workflow = await workflow_calling(ctx.organization_id, credential_id=credential.id)
    if workflow is not None:
        raise Conflict(f"credential {credential.id} is sent by workflow {workflow.id} ({workflow.name}); "
                       "change that workflow's http_request steps or delete it first")


def _in_use(credential: Credential, user: Connector | McpServer | None) -> Conflict:
    kind = "MCP server" if isinstance(user, McpServer) else "connector"
    named = f"{kind} {user.id} ({user.name})" if user else f"a {kind}"
    return Conflict(f"credential {credential.id} is used by {named}; "
                    f"delete that {kind} or move it to another credential first")


def open_data(ctx: Context, credential: Credential) -> dict[str, Any]:
    """The decrypted data, for a connector about to call its provider. Never returned to clients."""
    return unseal(keyring_of(ctx.services), credential.organization_id, credential.id, credential.sealed)
