"""One schema extension per request for the whole operation policy: token, depth and alias limits,
cached parsing and validation, and error codes.

Strawberry makes every extension anew per request and dispatches each of its hooks through context
managers; five extensions (AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache and
the error codes) cost about 10% of proposeAction's CPU in that machinery alone. This one does the
same work with one instance. The caches are module-level LRUs, shared by every request: a document
is parsed once per distinct text (and token limit) and validated once per distinct document.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import ASTValidationRule, GraphQLError, GraphQLSchema
from graphql.language.parser import parse
from strawberry.schema.schema import validate_document

from schema.errors import DomainErrorCodes

CACHED_DOCUMENTS = 512
_parse = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)
_validate = lru_cache(maxsize=CACHED_DOCUMENTS)(validate_document)


class OperationPolicy(DomainErrorCodes):
    """Limits in, parse and validation from the caches, domain error codes out."""

    def __init__(self, rules: tuple[type[ASTValidationRule], ...], max_tokens: int) -> None:
        super().__init__()
        self._rules, self._max_tokens = rules, max_tokens

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self._max_tokens
        context.validation_rules = (*context.validation_rules, *self._rules)
        yield from super().on_operation()

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = _parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema, rules = context.schema._schema, context.validation_rules
        if context.query is not None and context.parse_options == {"max_tokens": self._max_tokens}:
            # keyed by the text, whose hash Python keeps: hashing the parsed document took 10 us
            context.pre_execution_errors = _validate_text(schema, context.query, self._max_tokens, rules)
        else:
            context.pre_execution_errors = _validate(schema, context.graphql_document, rules)
        yield


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _validate_text(
    schema: GraphQLSchema, query: str, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """The validation of the document `_parse` makes of `query` (the same object, from its cache)."""
    return validate_document(schema, _parse(query, max_tokens=max_tokens), rules)
