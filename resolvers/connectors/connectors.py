"""Connector instances: create, list, get, update, delete.

An instance is a type from the catalogue, a config checked against the type's schema (and its URLs
through the outgoing-URL guard), and a credential of the same organization whose provider fits
the type. Changes emit `connector.created|updated|deleted`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.after_commit import atomic
from app.core.ids import new_id
from models.connectors import Connector, Credential
from resolvers.access import require
from resolvers.audit import trail
from resolvers.connectors import schemas
from resolvers.connectors.catalogue import describe_action, kind_of
from resolvers.connectors.kinds import ConnectorKind
from resolvers.context import Context
from resolvers.errors import Conflict, Invalid, NotFound
from resolvers.events.outbox import emit
from resolvers.lookup import owned
from resolvers.pagination import Page, paginate
from resolvers.validation import check_name, check_storable
from resolvers.workflows.references import policy_notifying, step_calling_action, workflow_calling

UNSET: Any = object()


@dataclass(slots=True)
class ConnectorSpec:
    """What a client may set; for an update, fields left UNSET stay as they are (type is fixed)."""

    name: Any = UNSET
    type: Any = UNSET
    credential_id: Any = UNSET
    config: Any = UNSET


def _summary(connector: Connector) -> dict[str, Any]:
    return {"connectorId": connector.id, "name": connector.name, "type": connector.type,
            "credentialId": connector.credential_id}


async def _checked_config(ctx: Context, kind: ConnectorKind, config: Any) -> dict[str, Any]:
    config = {} if config is None else config
    check_storable(config, "config")
    schemas.check(kind.config_schema, config, "config")
    if kind.check_config is not None:
        await kind.check_config(config, ctx.settings)
    return dict(config)


async def _checked_credential(ctx: Context, kind: ConnectorKind, credential_id: Any) -> str | None:
    """The credential id, once it is the caller's and fits the type; None where none is needed."""
    if credential_id is None:
        if kind.credential_required:
            raise Invalid(f"credentialId is required: a {kind.type} connector needs a {kind.credential_provider!r} "
                          "credential")
        return None
    try:
        credential = await owned(Credential, ctx, str(credential_id), "credential")
    except NotFound:
        raise Invalid(f"credentialId: credential {credential_id} not found") from None
    if credential.provider != kind.credential_provider:
        raise Invalid(f"credentialId: credential {credential.id} is for provider {credential.provider!r}; "
                      f"a {kind.type} connector needs a {kind.credential_provider!r} credential")
    return credential.id


async def create(ctx: Context, spec: ConnectorSpec) -> Connector:
    """A new instance (scope connectors:write)."""
    require(ctx, "connectors:write")
    if spec.type in (UNSET, None) or not isinstance(spec.type, str):
        raise Invalid("type is required")
    kind = kind_of(spec.type)
    connector = Connector(
        id=new_id("conn"), organization_id=ctx.organization_id, type=kind.type,
        name=check_name(str(spec.name)) if spec.name not in (UNSET, None) else _missing("name"),
        config=await _checked_config(ctx, kind, None if spec.config is UNSET else spec.config),
        credential_id=await _checked_credential(ctx, kind, None if spec.credential_id is UNSET else spec.credential_id),
    )
    async with atomic():
        await connector.save()
        await emit(ctx.services, ctx.organization_id, "connector.created", _summary(connector))
        await trail.record(ctx, "connector.created", connector.id, trail.created(_audited(connector)))
    return connector


def _missing(name: str) -> str:
    raise Invalid(f"{name} is required")


async def list_connectors(ctx: Context, *, limit: int | None = None, cursor: str | None = None) -> Page[Connector]:
    require(ctx, "connectors:read")
    return await paginate(Connector.filter(organization_id=ctx.organization_id), limit, cursor)


async def find(ctx: Context, connector_id: str, scope: str = "connectors:read") -> Connector:
    """The caller's connector; another organization's is NotFound, like an absent one."""
    require(ctx, scope)
    return await owned(Connector, ctx, connector_id, "connector")


async def update(ctx: Context, connector_id: str, spec: ConnectorSpec) -> Connector:
    """Change the name, credential and/or config given."""
    connector = await find(ctx, connector_id, "connectors:write")
    kind = kind_of(connector.type)
    if spec.type is not UNSET and spec.type != connector.type:
        raise Invalid("type cannot be changed; create a new connector instead")
    changed: list[str] = []
    before = _audited(connector)
    if spec.name is not UNSET:
        connector.name = check_name(str(spec.name)) if spec.name is not None else _missing("name")
        changed.append("name")
    if spec.config is not UNSET:
        connector.config = await _checked_config(ctx, kind, spec.config)
        changed.append("config")
    if spec.credential_id is not UNSET:
        connector.credential_id = await _checked_credential(ctx, kind, spec.credential_id)
        changed.append("credential_id")
    async with atomic() as conn:
        if "config" in changed:
            await _check_actions_kept(ctx, conn, kind, connector)
        await connector.save(update_fields=[*changed, "updated_at"])
        await emit(ctx.services, ctx.organization_id, "connector.updated",
                   {**_summary(connector), "changed": [_WIRE.get(c, c) for c in changed]})
        await trail.record(ctx, "connector.updated", connector.id, trail.diff(before, _audited(connector)))
    return connector


_WIRE = {"credential_id": "credentialId"}


async def _check_actions_kept(ctx: Context, conn: Any, kind: ConnectorKind, connector: Connector) -> None:
    """409 when the new config drops an action a workflow's step calls or an active policy notifies
    with (a custom_api endpoint removed): their next runs would fail on it, as on a deleted connector.
    The row is locked first (FOR UPDATE, as `delete` does), so a workflow or policy save holding it
    (lookup.held_for_reference, then checking its actions again) either committed before this check,
    which sees it, or waits and finds the action gone."""
    current = await owned(Connector, ctx, connector.id, "connector", conn=conn, lock=True)
    dropped = set(kind.actions_of(current.config)) - set(kind.actions_of(connector.config))
    if not dropped:
        return
    calling = await step_calling_action(ctx.organization_id, connector.id, dropped)
    if calling is not None:
        workflow, index, step, action = calling
        raise Conflict(f"config: connector {connector.id} would no longer offer action {action!r}, which "
                       f"workflow {workflow.id} ({workflow.name}) calls at steps[{index}] {step!r}; "
                       "change that workflow's steps first")
    policy = await policy_notifying(ctx.organization_id, connector.id, dropped)
    if policy is not None:
        raise Conflict(f"config: connector {connector.id} would no longer offer an action policy {policy.id} "
                       f"({policy.name}) notifies with; change that policy's notify or archive it first")


def _audited(connector: Connector) -> dict[str, Any]:
    """What the audit trail compares (the config holds no secret: those live in credentials)."""
    return {"name": connector.name, "type": connector.type, "config": connector.config,
            "credentialId": connector.credential_id}


async def delete(ctx: Context, connector_id: str) -> Connector:
    """Delete the instance and its call log; its credential stays. 409 while a workflow's step calls
    it or an active policy notifies it: their next runs would fail on a connector that is gone."""
    connector = await find(ctx, connector_id, "connectors:write")
    async with atomic() as conn:
        # Locked before the reference check (FOR UPDATE on PostgreSQL; SQLite runs one transaction at
        # a time): a workflow or policy save holds the connectors it names (lookup.held_for_reference), so it
        # either committed before this check, which then sees it, or waits and finds the row gone.
        connector = await owned(Connector, ctx, connector.id, "connector", conn=conn, lock=True)
        workflow = await workflow_calling(ctx.organization_id, connector_id=connector.id)
        if workflow is not None:
            raise Conflict(f"connector {connector.id} is called by workflow {workflow.id} ({workflow.name}); "
                           "change that workflow's steps or delete it first")
        policy = await policy_notifying(ctx.organization_id, connector.id)
        if policy is not None:
            raise Conflict(f"connector {connector.id} is notified by policy {policy.id} ({policy.name}); "
                           "remove it from that policy's notify or archive the policy first")
        await connector.delete(using_db=conn)
        await emit(ctx.services, ctx.organization_id, "connector.deleted", _summary(connector))
        await trail.record(ctx, "connector.deleted", connector.id, trail.deleted(_audited(connector)))
    return connector


def instance_actions(connector: Connector) -> list[dict[str, Any]]:
    """The actions this instance offers, with their schemas (custom_api: its own endpoints)."""
    return [describe_action(action) for action in kind_of(connector.type).actions_of(connector.config).values()]
