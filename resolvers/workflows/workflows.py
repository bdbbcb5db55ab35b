"""Workflows: create, list, get, update (each definition saved is a new version), delete.

A definition is checked on save (resolvers/workflows/definition.py): step names, types, configs,
templates and, for connector steps, the connector and its action's input schema. Deleting a
workflow hides it, stops its triggers and cancels its unfinished executions; its executions stay
readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.after_commit import atomic
from app.core.clock import utcnow
from app.core.ids import new_id
from models.connectors import Connector, Credential
from models.workflows import Workflow, WorkflowVersion
from resolvers.access import require
from resolvers.audit import trail
from resolvers.connectors.catalogue import kind_of
from resolvers.context import Context
from resolvers.errors import Forbidden, Invalid, NotFound
from resolvers.lookup import held_for_reference, lookup_id, owned
from resolvers.pagination import Page, paginate
from resolvers.validation import check_name
from resolvers.workflows.cancelling import cancel_unfinished, deleted_error
from resolvers.workflows.definition import check_definition
from resolvers.workflows.triggers import check_trigger

UNSET: Any = object()
MAX_DESCRIPTION = 10_000
MAX_CONCURRENCY = 1000


@dataclass(slots=True)
class WorkflowSpec:
    """What a client may set; for an update, fields left UNSET stay as they are."""

    name: Any = UNSET
    description: Any = UNSET
    is_public: Any = UNSET
    definition: Any = UNSET
    trigger: Any = UNSET
    concurrency: Any = UNSET


def connector_check(ctx: Context) -> Any:
    """The check definition.py calls for each connector step: the caller's connector and action."""

    async def check(connector_id: str, action: str) -> dict[str, Any] | None:
        try:
            connector = await owned(Connector, ctx, connector_id, "connector")
        except NotFound:
            raise Invalid(f"config.connectorId: connector {connector_id} not found") from None
        return _offered(connector, action)

    return check


def _offered(connector: Connector, action: str) -> dict[str, Any] | None:
    """The input schema of the connector's `action`, or Invalid naming the actions it has."""
    actions = kind_of(connector.type).actions_of(connector.config)
    if action not in actions:
        raise Invalid(f"config.action: connector {connector.id} has no action {action!r}; "
                      f"it has: {', '.join(actions)}")
    return actions[action].input_schema


async def _check_credentials(ctx: Context, definition: dict[str, Any]) -> None:
    """An http_request step's credential must be the caller's, for provider `http`."""
    for index, step in enumerate(definition["steps"]):
        credential_id = step["config"].get("credentialId") if step["type"] == "http_request" else None
        if credential_id is None:
            continue
        where = f"steps[{index}] {step['name']!r}: config.credentialId"
        try:
            credential = await owned(Credential, ctx, str(credential_id), "credential")
        except NotFound:
            raise Invalid(f"{where}: credential {credential_id} not found") from None
        if credential.provider != "http":
            raise Invalid(f"{where}: credential {credential_id} is for provider {credential.provider!r}, not 'http'")


def _check_step_scopes(ctx: Context, definition: dict[str, Any]) -> None:
    """A `connector` step runs a connector's action, and an `http_request` step with a credential
    sends that credential's secret to its URL: what `connectors:write` allows (running an action is
    a write). Saving such a step needs that scope too: with `workflows:write` alone a key ran any
    connector action, and sent an http credential's token to a URL of its choosing."""
    for index, step in enumerate(definition["steps"]):
        if step["type"] == "connector" or (step["type"] == "http_request"
                                           and step["config"].get("credentialId") is not None):
            try:
                require(ctx, "connectors:write")
            except Forbidden as exc:
                calls = "calls a connector" if step["type"] == "connector" else "sends a credential"
                raise Forbidden(f"steps[{index}] {step['name']!r} {calls}: {exc.message}") from None


async def hold_references(ctx: Context, conn: Any, definition: dict[str, Any]) -> None:
    """Hold the connectors and credentials the definition's steps call for the saving transaction
    (lookup.held_for_reference) and check they still exist, and still offer the actions called:
    `connector_check` and `_check_credentials` ran before it, and one deleted since, or a connector
    updated since to drop an action, would leave the saved definition calling what is gone
    (connectors.delete, connectors.update and credentials.delete check their references under a
    FOR UPDATE lock)."""
    held: dict[str, Any] = {}
    for model, step_type, field, what in _REFERENCES:
        named = {step["config"][field]: (index, step["name"]) for index, step in
                 reversed(list(enumerate(definition["steps"])))
                 if step["type"] == step_type and step["config"].get(field) is not None}
        present = await held_for_reference(model, ctx, set(named), conn)
        for ident in sorted(set(named) - present.keys()):
            index, name = named[ident]
            raise Invalid(f"steps[{index}] {name!r}: config.{field}: {what} {ident} not found")
        held |= present
    for index, step in enumerate(definition["steps"]):  # as held: an update dropping an action waited, or waits
        if step["type"] == "connector":
            try:
                _offered(held[step["config"]["connectorId"]], step["config"]["action"])
            except Invalid as exc:
                raise Invalid(f"steps[{index}] {step['name']!r}: {exc.message}", details=exc.details) from None


_REFERENCES: tuple[tuple[type[Connector] | type[Credential], str, str, str], ...] = (
    (Connector, "connector", "connectorId", "connector"),
    (Credential, "http_request", "credentialId", "credential"),
)


def _description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION or "\x00" in value:
        raise Invalid(f"description must be a string of at most {MAX_DESCRIPTION} characters")
    return value


def _concurrency(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_CONCURRENCY:
        raise Invalid(f"concurrency must be an integer from 1 to {MAX_CONCURRENCY}, or null")
    return value


async def _apply(ctx: Context, workflow: Workflow, spec: WorkflowSpec) -> list[str]:
    """Check and set the given fields; returns the columns changed."""
    changed: list[str] = []
    if spec.name is not UNSET:
        workflow.name = check_name(str(spec.name)) if spec.name is not None else _missing("name")
        changed.append("name")
    if spec.description is not UNSET:
        workflow.description = _description(spec.description)
        changed.append("description")
    if spec.is_public is not UNSET:
        if not isinstance(spec.is_public, bool):
            raise Invalid("isPublic must be a boolean")
        workflow.is_public = spec.is_public
        changed.append("is_public")
    if spec.trigger is not UNSET:
        workflow.trigger = check_trigger(spec.trigger)
        changed.append("trigger")
    if spec.concurrency is not UNSET:
        workflow.concurrency = _concurrency(spec.concurrency)
        changed.append("concurrency")
    if spec.definition is not UNSET:
        if spec.definition is None:
            _missing("definition")
        workflow.definition = await check_definition(spec.definition, connector_check(ctx))
        _check_step_scopes(ctx, workflow.definition)
        await _check_credentials(ctx, workflow.definition)
        changed.append("definition")
    return changed


def _missing(name: str) -> Any:
    raise Invalid(f"{name} is required")


async def create(ctx: Context, spec: WorkflowSpec) -> Workflow:
    """A new workflow and its version 1 (scope workflows:write)."""
    require(ctx, "workflows:write")
    if spec.name is UNSET:
        _missing("name")
    if spec.definition is UNSET:
        _missing("definition")
    workflow = Workflow(id=new_id("wf"), organization_id=ctx.organization_id, version=1)
    await _apply(ctx, workflow, spec)
    async with atomic() as conn:
        await hold_references(ctx, conn, workflow.definition)
        await workflow.save()
        await WorkflowVersion.create(workflow_id=workflow.id, number=1, definition=workflow.definition)
        await trail.record(ctx, "workflow.created", workflow.id, trail.created(_audited(workflow)))
    return workflow


async def list_workflows(ctx: Context, *, limit: int | None = None, cursor: str | None = None) -> Page[Workflow]:
    require(ctx, "workflows:read")
    return await paginate(Workflow.filter(organization_id=ctx.organization_id, deleted_at=None), limit, cursor)


async def find(ctx: Context, workflow_id: str, scope: str = "workflows:read") -> Workflow:
    """The caller's workflow, not deleted; anything else is NotFound."""
    require(ctx, scope)
    workflow = await owned(Workflow, ctx, lookup_id(workflow_id, "workflow"), "workflow")
    if workflow.deleted_at is not None:
        raise NotFound(f"workflow {workflow_id} not found")
    return workflow


async def update(ctx: Context, workflow_id: str, spec: WorkflowSpec) -> Workflow:
    """Change the fields given; a new definition becomes a new version.

    The fields are checked first, then applied to the workflow row locked for the saving
    transaction: two definitions saved at once become two versions, one after the other (each
    read the same number and the second insert broke the unique version number: a 500), and
    neither answer shows a field as it was before the other's save."""
    checked = await find(ctx, workflow_id, "workflows:write")
    changed = await _apply(ctx, checked, spec)
    async with atomic() as conn:
        workflow = await owned(Workflow, ctx, checked.id, "workflow", conn=conn, lock=True)
        if workflow.deleted_at is not None:
            raise NotFound(f"workflow {workflow_id} not found")
        before = _audited(workflow)
        for column in changed:
            setattr(workflow, column, getattr(checked, column))
        if "definition" in changed:
            await hold_references(ctx, conn, workflow.definition)
            workflow.version += 1
            changed.append("version")
            await WorkflowVersion.create(workflow_id=workflow.id, number=workflow.version,
                                         definition=workflow.definition, using_db=conn)
        await workflow.save(update_fields=[*changed, "updated_at"], using_db=conn)
        await trail.record(ctx, "workflow.updated", workflow.id, trail.diff(before, _audited(workflow)), conn)
    return workflow


async def delete(ctx: Context, workflow_id: str) -> Workflow:
    """Hide the workflow, stop its triggers and cancel its unfinished executions, as cancelling each
    would (the running call interrupted, a waited action withdrawn, each audited, `workflow.cancelled`):
    nothing of a deleted workflow should go on acting. Its executions stay readable."""
    workflow = await find(ctx, workflow_id, "workflows:write")
    workflow.deleted_at = utcnow()
    async with atomic() as conn:
        await workflow.save(update_fields=["deleted_at", "updated_at"], using_db=conn)
        await trail.record(ctx, "workflow.deleted", workflow.id, trail.deleted(_audited(workflow)), conn)
        await cancel_unfinished(ctx, workflow.id, conn, deleted_error(workflow.id))
    return workflow


def _audited(workflow: Workflow) -> dict[str, Any]:
    return {"name": workflow.name, "description": workflow.description, "isPublic": workflow.is_public,
            "definition": workflow.definition, "trigger": workflow.trigger, "concurrency": workflow.concurrency,
            "version": workflow.version}


async def current_version(workflow: Workflow) -> WorkflowVersion:
    return await WorkflowVersion.get(workflow_id=workflow.id, number=workflow.version)
