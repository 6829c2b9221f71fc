"""GraphQL types for the post-visit patient survey, and their mapping from survey records."""

from __future__ import annotations

import io
from datetime import datetime

import strawberry

from backend.core.clock import utcnow
from backend.graphql.context import Info
from backend.graphql.surveys import dataloaders
from backend.referrals import records as referral_records
from backend.surveys import service
from backend.surveys.codes import SurveyDelivery as DomainSurveyDelivery
from backend.surveys.codes import SurveyState as DomainSurveyState

SurveyState = strawberry.enum(DomainSurveyState, description="Where the patient survey stands.")
SurveyDelivery = strawberry.enum(
    DomainSurveyDelivery, description="E-mailed to the patient, or handed over by the coordinator."
)


@strawberry.type(description="The patient's answer to the post-visit survey.")
class SurveyAnswer:
    overall: int = strawberry.field(description="Overall experience, 1 (very poor) to 5 (excellent).")
    recommend: int = strawberry.field(description="Likelihood to recommend, 0 to 10.")
    wait_acceptable: bool
    comment: str = strawberry.field(description="Free text; empty when none was given.")
    answered_at: datetime


@strawberry.type(description="The referral's post-visit patient survey.")
class Survey:
    state: SurveyState  # type: ignore[valid-type]
    delivery: SurveyDelivery  # type: ignore[valid-type]
    sent_at: datetime = strawberry.field(description="When the invitation was created (and e-mailed).")
    expires_at: datetime
    view: strawberry.Private[service.SurveyView]
    referral: strawberry.Private[referral_records.Referral]

    @strawberry.field(
        description="The link to hand over to the patient: for the receiving organization's staff, "
        "while the survey can be answered; null otherwise."
    )
    def link(self, info: Info) -> str | None:
        return service.link_of(info.context.require_actor(), self.referral, self.view)

    @strawberry.field(description="`link` as a QR code (an SVG document); null when `link` is.")
    def qr_code_svg(self, info: Info) -> str | None:
        link = service.link_of(info.context.require_actor(), self.referral, self.view)
        if link is None:
            return None
        import segno

        buffer = io.BytesIO()
        segno.make(link, error="m").save(
            buffer, kind="svg", scale=4, xmldecl=False, svgns=True, title="Survey link"
        )
        return buffer.getvalue().decode()

    @strawberry.field(description="The patient's answer; null until they answer (reading it is audited).")
    async def answer(self, info: Info) -> SurveyAnswer | None:
        found = await service.read_answer(
            info.context.require_actor(), info.context.audit, self.referral, self.view
        )
        if found is None:
            return None
        return SurveyAnswer(
            overall=found.overall,
            recommend=found.recommend,
            wait_acceptable=found.wait_acceptable,
            comment=found.comment,
            answered_at=found.answered_at,
        )


async def load_survey(info: Info, referral: referral_records.Referral) -> Survey | None:
    invitation = await info.context.loader("survey_invitation", dataloaders.invitation_loader).load(
        referral.id
    )
    view = service.survey_of(info.context.require_actor(), referral, invitation, now=utcnow())
    if view is None:
        return None
    return Survey(
        state=view.state,
        delivery=DomainSurveyDelivery(view.invitation.delivery),
        sent_at=view.invitation.created_at,
        expires_at=view.invitation.expires_at,
        view=view,
        referral=referral,
    )
