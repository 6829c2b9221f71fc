"""A referral world for tests: two organizations with their people, a patient, and API helpers.

referring org: referrer (provider), referring coordinator, an unrelated colleague
receiving org: specialist (provider, cardiology), receiving coordinator, a second specialist
elsewhere:     an outsider organization with its own coordinator and specialist
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from backend.accounts.codes import Role
from tests.support.api import Api
from tests.support.factories import Clinician, DirectoryFactory, Factory, MadeUser
from tests.support.graphql_ids import global_id, uuid_of

SPECIALTY = "cardiology"

REFERRAL_FIELDS = """
  id version status priority allowedActions dueAt isOverdue statusReason outcomeReport
  networkStatus reason clinicalQuestion diagnoses redirectedFromId
  insurance { status } priorAuthorization { status payerReference }
  patient { id mrn } receivingProvider { id } receivingOrganization { id }
  appointment { status location startsAt }
  timeline { action fromStatus toStatus reasonCode note actorName occurredAt }
  documents { id kind mediaType sizeBytes isOutcome }
  checklist { item satisfied }
"""

RESULT = (
    "__typename ... on ReferralChangeSuccess { referral { " + REFERRAL_FIELDS + " } }"
    " ... on ReferralError { code message currentStatus currentVersion allowedActions missingItems field }"
    " ... on InputError { fieldErrors { field code message } }"
)

CREATE = "mutation($input: CreateReferralInput!) { createReferral(input: $input) { " + RESULT + " } }"
REFERRAL = "query($id: ID!) { referral(id: $id) { " + REFERRAL_FIELDS + " } }"

MUTATIONS = {
    "SEND": ("sendReferral", "ReferralChangeInput"),
    "ROUTE": ("routeReferral", "RouteReferralInput"),
    "CLAIM": ("claimReferral", "ReferralChangeInput"),
    "REQUEST_INFO": ("requestReferralInfo", "ReferralNoteInput"),
    "PROVIDE_INFO": ("provideReferralInfo", "ReferralNoteInput"),
    "ACCEPT": ("acceptReferral", "ReferralNoteInput"),
    "DECLINE": ("declineReferral", "DeclineReferralInput"),
    "SCHEDULE": ("scheduleAppointment", "AppointmentInput"),
    "RESCHEDULE": ("rescheduleAppointment", "AppointmentInput"),
    "CANCEL_APPOINTMENT": ("cancelAppointment", "ReferralChangeInput"),
    "MARK_NO_SHOW": ("markNoShow", "ReferralChangeInput"),
    "COMPLETE_VISIT": ("completeVisit", "ReferralChangeInput"),
    "CLOSE": ("closeReferral", "CloseReferralInput"),
    "CANCEL": ("cancelReferral", "CancelReferralInput"),
    "REDIRECT": ("redirectReferral", "RedirectReferralInput"),
    "ADD_DOCUMENT": ("addReferralDocument", "AddReferralDocumentInput"),
    "UPDATE_INSURANCE": ("updateInsuranceVerification", "UpdateInsuranceInput"),
    "UPDATE_PRIOR_AUTH": ("updatePriorAuthorization", "UpdatePriorAuthInput"),
    "EDIT": ("editReferralDraft", "EditReferralDraftInput"),
}


def mutation_document(action: str) -> str:
    field, input_type = MUTATIONS[action]
    return f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {RESULT} }} }}"


def new_key() -> str:
    return f"key-{secrets.token_hex(8)}"


def future(days: int = 7) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


PDF = "JVBERi0xLjQKJcfsj6IKdGVzdA=="  # a few bytes of "%PDF-1.4"


def extra_input(action: str, world: World) -> dict[str, Any]:
    """The action-specific part of a valid input."""
    return {
        "ROUTE": {"providerId": world.specialist_gid},
        "REQUEST_INFO": {"note": "Is there a recent echocardiogram?"},
        "PROVIDE_INFO": {"note": "Echo from March attached."},
        "ACCEPT": {"note": ""},
        "DECLINE": {"reason": "NO_CAPACITY", "note": ""},
        "SCHEDULE": {"startsAt": future(), "location": "Heart Center, Room 4"},
        "RESCHEDULE": {"startsAt": future(9), "location": "Heart Center, Room 2"},
        "CLOSE": {"report": "Paroxysmal AF confirmed; started anticoagulation."},
        "CANCEL": {"reason": "PATIENT_DECLINED", "note": ""},
        "REDIRECT": {"receivingProviderId": world.second_specialist_gid},
        "ADD_DOCUMENT": {
            "document": {
                "kind": "LAB_RESULTS",
                "mediaType": "application/pdf",
                "filename": "labs.pdf",
                "contentBase64": PDF,
            }
        },
        "UPDATE_INSURANCE": {"status": "VERIFIED", "note": ""},
        "UPDATE_PRIOR_AUTH": {"status": "APPROVED", "payerReference": "PA-123"},
        "EDIT": {"reason": "Palpitations", "diagnoses": ["R00.2"]},
    }.get(action, {})


@dataclass
class Person:
    user: MadeUser
    token: str
    provider_id: UUID | None = None


@dataclass
class World:
    api: Api
    referring_org: UUID
    receiving_org: UUID
    outsider_org: UUID
    referrer: Person
    referring_coordinator: Person
    colleague: Person
    specialist: Person
    second_specialist: Person
    receiving_coordinator: Person
    receiving_manager: Person
    outsider_coordinator: Person
    outsider_specialist: Person
    patient_id: UUID

    @property
    def patient_gid(self) -> str:
        return global_id("Patient", self.patient_id)

    @property
    def specialist_gid(self) -> str:
        assert self.specialist.provider_id
        return global_id("Provider", self.specialist.provider_id)

    @property
    def second_specialist_gid(self) -> str:
        assert self.second_specialist.provider_id
        return global_id("Provider", self.second_specialist.provider_id)

    async def create(self, *, token: str | None = None, **overrides: Any) -> dict[str, Any]:
        payload = {
            "idempotencyKey": new_key(),
            "patientId": self.patient_gid,
            "specialtyCode": SPECIALTY,
            "priority": "URGENT",
            "receivingProviderId": self.specialist_gid,
            "reason": "Palpitations and irregular pulse",
            "clinicalQuestion": "Atrial fibrillation? Anticoagulation?",
            "relevantHistory": "Hypertension, type 2 diabetes",
            "diagnoses": ["I48.91"],
        }
        payload.update(overrides)
        data = await self.api.data(CREATE, {"input": payload}, token=token or self.referrer.token)
        result: dict[str, Any] = data["createReferral"]
        return result

    async def draft(self, **overrides: Any) -> dict[str, Any]:
        result = await self.create(**overrides)
        assert result["__typename"] == "ReferralChangeSuccess", result
        referral: dict[str, Any] = result["referral"]
        return referral

    async def act(
        self, action: str, referral: dict[str, Any], person: Person, **overrides: Any
    ) -> dict[str, Any]:
        field, _ = MUTATIONS[action]
        payload = {"referralId": referral["id"], "version": referral["version"], "idempotencyKey": new_key()}
        payload.update(extra_input(action, self))
        payload.update(overrides)
        data = await self.api.data(mutation_document(action), {"input": payload}, token=person.token)
        result: dict[str, Any] = data[field]
        return result

    async def step(
        self, action: str, referral: dict[str, Any], person: Person, **overrides: Any
    ) -> dict[str, Any]:
        result = await self.act(action, referral, person, **overrides)
        assert result["__typename"] == "ReferralChangeSuccess", result
        updated: dict[str, Any] = result["referral"]
        return updated

    async def visit_time_arrives(self, referral: dict[str, Any], *, hours_ago: int = 1) -> None:
        """Time passes: the booked appointment started ``hours_ago`` hours ago (so the visit may
        be completed without an early-visit reason)."""
        from datetime import UTC, datetime, timedelta

        from backend.referrals.tables import Appointment

        await Appointment.update(
            {Appointment.starts_at: datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)}
        ).where((Appointment.referral == UUID(uuid_of(referral["id"]))) & (Appointment.status == "BOOKED"))

    async def read(self, referral_id: str, person: Person) -> dict[str, Any] | None:
        data = await self.api.data(REFERRAL, {"id": referral_id}, token=person.token)
        found: dict[str, Any] | None = data["referral"]
        return found


# Paths from a fresh draft to each status, as (action, who) steps.
PATHS: dict[str, list[tuple[str, str]]] = {
    "DRAFT": [],
    "SENT": [("SEND", "referrer")],
    "IN_REVIEW": [("SEND", "referrer"), ("CLAIM", "specialist")],
    "NEEDS_INFO": [("SEND", "referrer"), ("CLAIM", "specialist"), ("REQUEST_INFO", "specialist")],
    "ACCEPTED": [("SEND", "referrer"), ("ACCEPT", "specialist")],
    "DECLINED": [("SEND", "referrer"), ("DECLINE", "specialist")],
    "SCHEDULED": [("SEND", "referrer"), ("ACCEPT", "specialist"), ("SCHEDULE", "receiving_coordinator")],
    "NO_SHOW": [
        ("SEND", "referrer"),
        ("ACCEPT", "specialist"),
        ("SCHEDULE", "receiving_coordinator"),
        ("MARK_NO_SHOW", "receiving_coordinator"),
    ],
    "VISIT_COMPLETED": [
        ("SEND", "referrer"),
        ("ACCEPT", "specialist"),
        ("SCHEDULE", "receiving_coordinator"),
        ("COMPLETE_VISIT", "specialist"),
    ],
    "CLOSED": [
        ("SEND", "referrer"),
        ("ACCEPT", "specialist"),
        ("SCHEDULE", "receiving_coordinator"),
        ("COMPLETE_VISIT", "specialist"),
        ("CLOSE", "specialist"),
    ],
    "CANCELLED": [("SEND", "referrer"), ("CANCEL", "referrer")],
}


async def referral_in(world: World, status: str) -> dict[str, Any]:
    referral = await world.draft()
    for action, who in PATHS[status]:
        if action == "COMPLETE_VISIT":
            await world.visit_time_arrives(referral)
        referral = await world.step(action, referral, getattr(world, who))
    assert referral["status"] == status
    return referral


async def build_world(api: Api, factory: Factory, directory: DirectoryFactory) -> World:
    await factory.specialty(SPECIALTY)
    referring_org = await factory.organization()
    receiving_org = await factory.organization()
    outsider_org = await factory.organization()

    async def person(org: UUID, role: Role, *, clinician: bool = False) -> Person:
        if clinician:
            made: Clinician = await directory.clinician(factory, org, role, SPECIALTY)
            user, provider_id = made.user, made.provider_id
        else:
            user, provider_id = await factory.user(org, roles=(role,)), None
        tokens = await api.login(user.email, user.password)
        return Person(user, tokens.access, provider_id)

    world = World(
        api=api,
        referring_org=referring_org,
        receiving_org=receiving_org,
        outsider_org=outsider_org,
        referrer=await person(referring_org, Role.REFERRING_PROVIDER, clinician=True),
        referring_coordinator=await person(referring_org, Role.COORDINATOR),
        colleague=await person(referring_org, Role.REFERRING_PROVIDER, clinician=True),
        specialist=await person(receiving_org, Role.SPECIALIST, clinician=True),
        second_specialist=await person(receiving_org, Role.SPECIALIST, clinician=True),
        receiving_coordinator=await person(receiving_org, Role.COORDINATOR),
        receiving_manager=await person(receiving_org, Role.REFERRAL_MANAGER),
        outsider_coordinator=await person(outsider_org, Role.COORDINATOR),
        outsider_specialist=await person(outsider_org, Role.SPECIALIST, clinician=True),
        patient_id=await directory.patient(referring_org),
    )
    for clinician in (world.specialist, world.second_specialist):
        assert clinician.provider_id is not None
        await directory.network_link(referring_org, clinician.provider_id)
    return world
