"""Validation results cached by query text, one cache per schema.

strawberry's ``ValidationCache`` keys its LRU cache by the parsed document: hashing a frozen
AST walks the whole tree on every request, about 2% of a ``sendMessage``'s CPU. ``ParserCache``
turns one text into one document, and a schema's rules never change, so the text is the key.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document


class ValidationResults:
    """A bounded LRU map from query text to its validation errors (empty: valid)."""

    __slots__ = ("_results", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._results: OrderedDict[str, list[GraphQLError]] = OrderedDict()

    def get(self, text: str) -> list[GraphQLError] | None:
        errors = self._results.get(text)
        if errors is not None:
            self._results.move_to_end(text)
        return errors

    def put(self, text: str, errors: list[GraphQLError]) -> None:
        self._results[text] = errors
        if len(self._results) > self.maxsize:
            self._results.popitem(last=False)

    def __len__(self) -> int:
        return len(self._results)


class ValidationCacheByText(SchemaExtension):
    def __init__(self, results: ValidationResults) -> None:
        super().__init__()
        self._results = results

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        text, document = context.query, context.graphql_document
        errors = self._results.get(text) if text is not None else None
        if errors is None and document is not None:
            errors = validate_document(context.schema._schema, document, context.validation_rules)
            if text is not None:
                self._results.put(text, errors)
        if errors is not None:
            context.pre_execution_errors = errors
        yield
