"""Rendering a stream event for one subscription document, without running GraphQL per subscriber.

A document is parsed and validated once; its selection on the event (fields, aliases,
``__typename``, inline and named fragments, ``@skip``/``@include``) becomes a plan per concrete
event type. Every stream event field is a scalar, so a plan is a flat list of
(response key, field) pairs. The rendered dict is shared by every subscriber of that document;
only ``sequence`` differs per recipient and is set at send time.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution.values import VariableValues, get_directive_values

from backend.graphql.common import to_global_id
from backend.graphql.realtime.types import INTERFACES, TYPENAMES

Event = dict[str, Any]
GLOBAL_ID_FIELDS = {
    "referralId": "Referral",
    "appointmentId": "Appointment",
    "documentId": "Document",
    "conversationId": "Conversation",
    "messageId": "Message",
    "senderId": "User",
    "userId": "User",
}
CACHED_EVENTS = 64


class Projection:
    def __init__(
        self, document: DocumentNode, operation: OperationDefinitionNode, variables: VariableValues
    ) -> None:
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._variables = variables
        root = operation.selection_set.selections[0]
        assert isinstance(root, FieldNode)
        self.root_field = root
        self.root_key = root.alias.value if root.alias else root.name.value
        self._plans: dict[str, list[tuple[str, str]]] = {}
        self._rendered: OrderedDict[str, tuple[Event, tuple[str, ...]]] = OrderedDict()

    def render(self, event: Event) -> tuple[Event, tuple[str, ...]]:
        """The selection's data for ``event``, and the response keys that carry ``sequence``."""
        event_id = event["eventId"]
        found = self._rendered.get(event_id)
        if found is None:
            typename = TYPENAMES[event["type"]]
            plan = self._plans.get(typename)
            if plan is None:
                plan = self._plans[typename] = self._collect(self.root_field.selection_set, typename, {})
            data = {key: _value(field, typename, event) for key, field in plan if field != "sequence"}
            found = (data, tuple(key for key, field in plan if field == "sequence"))
            self._rendered[event_id] = found
            if len(self._rendered) > CACHED_EVENTS:
                self._rendered.popitem(last=False)
        return found

    def _collect(
        self, selection_set: SelectionSetNode | None, typename: str, plan: dict[str, str]
    ) -> list[tuple[str, str]]:
        for selection in selection_set.selections if selection_set else ():
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                plan.setdefault(key, selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else None
                if condition is None or condition == typename or condition in INTERFACES:
                    self._collect(selection.selection_set, typename, plan)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments[selection.name.value]
                condition = fragment.type_condition.name.value
                if condition == typename or condition in INTERFACES:
                    self._collect(fragment.selection_set, typename, plan)
        return list(plan.items())

    def _included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self._variables)
        if skip and skip.get("if"):
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self._variables)
        return not (include and not include.get("if"))


def _value(field: str, typename: str, event: Event) -> Any:
    if field == "__typename":
        return typename
    value = event.get(field)
    if field in GLOBAL_ID_FIELDS and value is not None:
        return to_global_id(GLOBAL_ID_FIELDS[field], value)
    return value
