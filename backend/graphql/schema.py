"""The schema: every domain's queries and mutations, with the document limits and caches."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.types import ExecutionContext

from backend.accounts import access
from backend.accounts import repository as accounts_repository
from backend.accounts.errors import AccountError
from backend.core.clock import utcnow
from backend.graphql.accounts.mutations import AccountMutations
from backend.graphql.accounts.queries import AccountQueries
from backend.graphql.accounts.types import organization_from_record, provider_from_record, user_from_record
from backend.graphql.auth.mutations import AuthMutations
from backend.graphql.common import Node, from_global_id, uuid_of
from backend.graphql.context import Info
from backend.graphql.directory.queries import DirectoryQueries
from backend.graphql.messaging.mutations import MessagingMutations
from backend.graphql.messaging.queries import MessagingQueries
from backend.graphql.messaging.types import conversation_from_view, message_from_record
from backend.graphql.patients.mutations import PatientMutations
from backend.graphql.patients.queries import PatientQueries
from backend.graphql.patients.types import patient_from_record
from backend.graphql.protocols.mutations import ProtocolMutations
from backend.graphql.protocols.queries import ProtocolQueries
from backend.graphql.push.mutations import PushMutations
from backend.graphql.push.queries import PushQueries
from backend.graphql.realtime.types import EVENT_TYPES, Subscription
from backend.graphql.referrals.mutations import ReferralMutations
from backend.graphql.referrals.queries import ReferralQueries
from backend.graphql.referrals.types import referral_from_outcome
from backend.graphql.validation_cache import ValidationCacheByText, ValidationResults
from backend.messaging import service as messaging_service
from backend.messaging.errors import MessagingError
from backend.patients import service as patient_service
from backend.patients.errors import PatientError
from backend.referrals import service as referral_service
from backend.referrals.errors import ReferralError
from backend.settings import GraphQLLimits, Settings


async def _resolve_node(info: Info, global_id: str) -> Node | None:
    actor = info.context.require_actor()
    decoded = from_global_id(global_id)
    if decoded is None:
        return None
    type_name = decoded[0]
    raw_id = uuid_of(global_id, type_name)
    if raw_id is None:
        return None
    try:
        if type_name == "User":
            return user_from_record(await access.access_user(actor, raw_id))
        if type_name == "Organization":
            return organization_from_record(await access.access_organization(actor, raw_id))
    except AccountError:
        return None
    if type_name == "Referral":
        try:
            outcome = await referral_service.read_referral(
                info.context.require_actor(), info.context.audit, raw_id
            )
        except ReferralError:
            return None
        return referral_from_outcome(outcome, utcnow())
    if type_name == "Patient":
        try:
            patient = await patient_service.read_patient(
                info.context.require_actor(), info.context.audit, raw_id
            )
        except PatientError:
            return None
        return patient_from_record(patient)
    if type_name in {"Conversation", "Message"}:
        return await _resolve_messaging_node(info, type_name, raw_id)
    if type_name == "Provider":
        rows = await accounts_repository.providers_by_ids([raw_id])
        return provider_from_record(rows[0]) if rows else None
    return None


async def _resolve_messaging_node(info: Info, type_name: str, raw_id: UUID) -> Node | None:
    actor = info.context.require_actor()
    try:
        if type_name == "Conversation":
            return conversation_from_view(
                await messaging_service.read_conversation(actor, info.context.audit, raw_id)
            )
        return message_from_record(await messaging_service.read_message(actor, info.context.audit, raw_id))
    except MessagingError:
        return None


@strawberry.type
class Query(
    AccountQueries,
    ReferralQueries,
    PatientQueries,
    DirectoryQueries,
    ProtocolQueries,
    MessagingQueries,
    PushQueries,
):
    @strawberry.field(description="Refetch any object by its global id; null when absent or not yours.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await _resolve_node(info, id)


@strawberry.type
class Mutation(
    AuthMutations,
    AccountMutations,
    ReferralMutations,
    PatientMutations,
    ProtocolMutations,
    MessagingMutations,
    PushMutations,
):
    pass


class CareLoopSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Errors are presented and logged (without PHI) by the HTTP boundary, not here."""


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    limits = settings.graphql_limits if settings else GraphQLLimits()
    # The limiters' rules are built once: a new rule class per request would make every request a
    # validation-cache miss (the cache is keyed by document and rules).
    limit_rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    validation_results = ValidationResults(maxsize=256)
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: AddValidationRules(limit_rules),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCacheByText(validation_results),
    ]
    if settings is not None and settings.is_prod:
        extensions.append(DisableIntrospection)
    return CareLoopSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(EVENT_TYPES),
        extensions=extensions,
    )
