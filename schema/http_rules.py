"""What HTTP does not serve: a subscription, which only the WebSocket hub serves (app/subscriptions/).

Sent over HTTP, a subscription ran as if it were a query, found no value for its field, and came
back INTERNAL with an error-level traceback; it is a client's mistake, refused at validation.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, ValidationRule

OVER_WEBSOCKET = "subscriptions are served over WebSocket at /graphql (graphql-transport-ws), not over HTTP"


class NoSubscriptionsOverHttp(ValidationRule):
    """Reports each subscription operation of a document sent over HTTP."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        if node.operation == OperationType.SUBSCRIPTION:
            self.report_error(GraphQLError(OVER_WEBSOCKET, node))
