"""Referral queries: one referral, inbox views with filters and cursors, badge counts, documents."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

import strawberry

from backend.core.clock import utcnow
from backend.graphql.common import PageInfo, page_size, uuid_of
from backend.graphql.context import Info
from backend.graphql.errors import bad_user_input
from backend.graphql.referrals.inputs import ReferralFilter
from backend.graphql.referrals.types import (
    Document,
    InboxView,
    Referral,
    ReferralConnection,
    ReferralEdge,
    StatusCount,
    document_from_record,
    referral_from_outcome,
)
from backend.realtime import repository as stream_repository
from backend.referrals import service
from backend.referrals.errors import ReferralError
from backend.referrals.lifecycle import Priority, Status
from backend.referrals.limits import MAX_FILTER_VALUES
from backend.referrals.repository import InboxFilters, InboxKey


@strawberry.type(description="A document with its content.")
class DocumentContent:
    document: Document
    content_base64: str


def _encode_key(key: InboxKey) -> str:
    raw = f"{key.priority_rank}|{key.due_at.isoformat()}|{key.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_key(cursor: str | None) -> InboxKey | None:
    if cursor is None:
        return None
    try:
        rank, due_at, raw_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return InboxKey(int(rank), datetime.fromisoformat(due_at), UUID(raw_id))
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise bad_user_input("`after` is not a cursor from this list.", "after") from error


def _filters(filter: ReferralFilter | None) -> InboxFilters:
    if filter is None:
        return InboxFilters()
    for name in ("statuses", "priorities", "specialty_codes"):
        values = getattr(filter, name) or []
        if len(values) > MAX_FILTER_VALUES:
            raise bad_user_input(f"At most {MAX_FILTER_VALUES} values per filter.", f"filter.{name}")
    return InboxFilters(
        statuses=[Status(s).value for s in filter.statuses or []],
        priorities=[Priority(p).value for p in filter.priorities or []],
        specialty_codes=list(filter.specialty_codes or []),
        patient_id=_filter_id(filter.patient_id, "Patient", "filter.patientId"),
        provider_id=_filter_id(filter.provider_id, "Provider", "filter.providerId"),
        overdue_at=utcnow() if filter.overdue else None,
        created_from=filter.created_from,
        created_to=filter.created_before,
    )


def _filter_id(global_id: str | None, type_name: str, argument: str) -> UUID | None:
    if global_id is None:
        return None
    parsed = uuid_of(global_id, type_name)
    if parsed is None:
        raise bad_user_input(f"Not a {type_name} id.", argument)
    return parsed


def _organization(global_id: strawberry.ID | None) -> UUID | None:
    return _filter_id(global_id, "Organization", "organizationId")


@strawberry.type
class ReferralQueries:
    @strawberry.field(description="A referral you are a party to; null for any other id.")
    async def referral(self, info: Info, id: strawberry.ID) -> Referral | None:
        referral_id = uuid_of(id, "Referral")
        if referral_id is None:
            return None
        try:
            outcome = await service.read_referral(
                info.context.require_actor(), info.context.audit, referral_id
            )
        except ReferralError:
            return None
        return referral_from_outcome(outcome, utcnow())

    @strawberry.field(
        description="An inbox: INCOMING (you receive), OUTGOING (you refer) or ORGANIZATION_QUEUE "
        "(everything sent to `organizationId`, for its coordinators and managers). "
        "Sorted by priority, then due time."
    )
    async def referrals(  # noqa: PLR0917 - GraphQL arguments
        self,
        info: Info,
        view: InboxView,  # type: ignore[valid-type]
        organization_id: strawberry.ID | None = None,
        filter: ReferralFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ReferralConnection:
        context = info.context
        limit = page_size(first, maximum=context.container.settings.graphql_limits.max_page_size)
        outcomes = await service.inbox(
            info.context.require_actor(),
            context.audit,
            view=view,
            organization_id=_organization(organization_id),
            filters=_filters(filter),
            after=_decode_key(after),
            limit=limit + 1,
        )
        page = outcomes[:limit]
        now = utcnow()
        edges = [
            ReferralEdge(
                cursor=_encode_key(service.inbox_key(o.referral)), node=referral_from_outcome(o, now)
            )
            for o in page
        ]
        return ReferralConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(outcomes) > limit, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field(description="How many referrals of an inbox are in each status (zero counts omitted).")
    async def referral_status_counts(
        self,
        info: Info,
        view: InboxView,  # type: ignore[valid-type]
        organization_id: strawberry.ID | None = None,
        filter: ReferralFilter | None = None,
    ) -> list[StatusCount]:
        counts = await service.status_counts(
            info.context.require_actor(),
            view=view,
            organization_id=_organization(organization_id),
            filters=_filters(filter),
        )
        return [StatusCount(status=Status(s), count=counts[s]) for s in Status if s in counts]

    @strawberry.field(
        description="The last sequence of your event stream. Ask for it in the same query as the data "
        "you show, and subscribe with `after:` it: it is read before the rest of the query, so you get "
        "every change from there on (possibly one you already see: events carry the version)."
    )
    async def stream_position(self, info: Info) -> int:
        actor = info.context.require_actor()
        prefetched = info.context.loaders.get("stream_position")
        position = (
            prefetched if prefetched is not None else await stream_repository.last_sequence(actor.user_id)
        )
        return int(position)

    @strawberry.field(description="A document's content, if you may see its referral; null otherwise.")
    async def document(self, info: Info, id: strawberry.ID) -> DocumentContent | None:
        document_id = uuid_of(id, "Document")
        if document_id is None:
            return None
        try:
            document = await service.read_document(
                info.context.require_actor(), info.context.audit, document_id
            )
        except ReferralError:
            return None
        return DocumentContent(
            document=document_from_record(document),
            content_base64=base64.b64encode(document.content).decode(),
        )
