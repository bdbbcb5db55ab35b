"""Operations over WebSocket: parsed and validated once, with the same limits as HTTP.

A subscription is prepared when the client subscribes (syntax, validation, depth, aliases, tokens,
variables, the root field's arguments); afterwards each event costs one `execute_sync` against the
event's payload for the whole group sharing the document. A fresh execution per event keeps memory
flat (graphql-core's subscription executor memoises per event for as long as it stays open).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import orjson
import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute_sync,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from app.core.settings import Settings
from schema import limit_rules

CACHED_DOCUMENTS = 512
CACHED_DOCUMENT_CHARS = 16_384  # the cache holds at most 512 of these: 8 MB of text


class OperationError(Exception):
    """The operation cannot run: its GraphQL errors, ready for an `error` message."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "invalid operation")
        self.errors = errors


def error_payload(message: str, code: str = "BAD_REQUEST") -> list[dict[str, Any]]:
    return [{"message": message, "extensions": {"code": code}}]


def _coded(errors: Iterable[GraphQLError], code: str) -> list[dict[str, Any]]:
    """graphql-core's errors as a frame's payload, each with `code`: GraphQL errors carry one."""
    return [{**e.formatted, "extensions": {"code": code}} for e in errors]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated subscription: what the hub needs to group and serve it."""

    key: str  # query + operation name + variables: subscribers with the same key share renders
    document: DocumentNode
    operation_name: str | None
    variables: dict[str, Any]
    field: str
    arguments: dict[str, Any]


class Documents:
    """Parses, validates and executes operations against one schema with the configured limits."""

    def __init__(self, schema: strawberry.Schema, settings: Settings) -> None:
        self.schema = schema
        self._rules = (*specified_rules, *limit_rules(settings))
        self._max_tokens = settings.graphql_max_tokens
        self._cached = lru_cache(maxsize=CACHED_DOCUMENTS)(self._parse_and_validate)

    def _checked(self, query: str) -> DocumentNode:
        """Parsed and validated, from the cache for a document of dashboard size. A larger one (a
        comment or a string literal is one token or none: up to a message's size) is parsed again
        each time instead of being kept, up to 1 MB each, after its operation ended."""
        return self._cached(query) if len(query) <= CACHED_DOCUMENT_CHARS else self._parse_and_validate(query)

    def is_subscription(self, query: str, operation_name: str | None) -> bool:
        """Whether the hub serves it. A name that picks no operation (unknown, or none given among
        several) in a document of subscriptions gets `prepare`'s answer, not a query's execution."""
        document = self._checked(query)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return any(isinstance(d, OperationDefinitionNode) and d.operation == OperationType.SUBSCRIPTION
                       for d in document.definitions)
        return operation.operation == OperationType.SUBSCRIPTION

    def prepare(self, query: str, variables: dict[str, Any] | None, operation_name: str | None) -> Prepared:
        document = self._checked(query)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            raise OperationError(error_payload("unknown or ambiguous operation name"))
        coerced = get_variable_values(self.schema._schema, operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            raise OperationError(_coded(coerced, "BAD_REQUEST"))
        field, arguments = self._root_field(document, operation, coerced)
        key = orjson.dumps([query, operation_name, variables or {}], option=orjson.OPT_SORT_KEYS).decode()
        return Prepared(key, document, operation_name, variables or {}, field, arguments)

    def render(self, prepared: Prepared, root: object) -> str:
        """One event's payload as JSON text, shared by every subscriber of `prepared`."""
        result = execute_sync(
            self.schema._schema, prepared.document, root_value=root,
            variable_values=prepared.variables, operation_name=prepared.operation_name,
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = _coded(result.errors, "INTERNAL")
        return orjson.dumps(payload).decode()

    def _parse_and_validate(self, query: str) -> DocumentNode:
        """Cached by query text; raises OperationError (not cached) on a bad document."""
        try:
            document = parse(query, max_tokens=self._max_tokens)
        except GraphQLError as exc:
            raise OperationError(_coded([exc], "BAD_REQUEST")) from None
        errors = validate(self.schema._schema, document, self._rules)
        if errors:
            raise OperationError(_coded(errors, "BAD_REQUEST"))
        return document

    def _root_field(self, document: DocumentNode, operation: OperationDefinitionNode,
                    variables: VariableValues) -> tuple[str, dict[str, Any]]:
        """The subscribed field and its coerced arguments, wherever the document puts it.

        Validation already guarantees exactly one root field (no @skip/@include on it, no fragment
        cycles), so the first field met, through fragment spreads and inline fragments, is it.
        """
        node = _first_field(operation.selection_set, _fragments(document))
        subscription_type = self.schema._schema.subscription_type
        if node is None or subscription_type is None:
            raise OperationError(error_payload("a subscription selects one root field"))
        definition = subscription_type.fields[node.name.value]
        return node.name.value, get_argument_values(definition, node, variables)


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _first_field(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]) -> FieldNode | None:
    """Depth first through fragments: the root field of a validated subscription."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            return selection
        if isinstance(selection, FragmentSpreadNode):
            inner: SelectionSetNode | None = fragments[selection.name.value].selection_set
        else:
            inner = cast(InlineFragmentNode, selection).selection_set
        found = _first_field(inner, fragments) if inner is not None else None
        if found is not None:
            return found
    return None
